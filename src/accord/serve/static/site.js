// Every page: a wide table scrolls inside its own box instead of widening the page on a
// phone. The box is focusable and named, so keyboard users can scroll it too (axe's
// scrollable-region-focusable). Without JavaScript the page itself scrolls sideways.
(function () {
  "use strict";
  function wrap(table) {
    if (table.closest(".scroll")) return;
    var box = document.createElement("div");
    box.className = "scroll";
    var caption = table.querySelector("caption");
    var heading = table.previousElementSibling;
    var name = caption ? caption.textContent
      : (heading && /^H[1-6]$/.test(heading.tagName) ? heading.textContent : "Table");
    box.dataset.name = name.trim() + " (scrolls sideways)";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
  }
  // Only a box that does scroll is a tab stop and a named region.
  function update() {
    var boxes = document.querySelectorAll("main .scroll");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", box.dataset.name);
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }
  function run() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) wrap(tables[i]);
    update();
    window.addEventListener("resize", update);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
