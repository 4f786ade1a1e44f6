// Keyboard-first reviewing, with no build step and no dependencies. The forms work without
// this script; it only adds shortcuts (listed on the page), highlighting and drag-to-rank.
(function () {
  "use strict";
  const form = document.getElementById("review-form");
  if (!form) return;
  const skip = document.getElementById("skip-form");
  const note = document.getElementById("note");
  const typing = (el) => el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "radio" && el.type !== "checkbox") || el.tagName === "SELECT");
  let index = 0;

  function submit(f) { if (f.requestSubmit) f.requestSubmit(); else f.submit(); }

  if (form.dataset.kind === "rating") {
    const cats = Array.from(form.querySelectorAll("fieldset.category"));
    const mark = () => cats.forEach((c, i) => {
      c.classList.toggle("active", i === index);
      c.classList.toggle("done", c.dataset.type === "flags" ? c.dataset.touched === "1" : !!c.querySelector("input[type=radio]:checked"));
    });
    const go = (i) => { index = Math.max(0, Math.min(cats.length - 1, i)); mark(); cats[index].scrollIntoView({ block: "nearest" }); };
    cats.forEach((c, i) => c.addEventListener("click", () => { index = i; mark(); }));
    form.addEventListener("change", (e) => { const c = e.target.closest("fieldset.category"); if (c) c.dataset.touched = "1"; mark(); });
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typing(document.activeElement)) {
        if (e.key === "Escape") document.activeElement.blur();
        else if (e.key === "Enter" && !e.shiftKey && document.activeElement === note) { e.preventDefault(); submit(form); }
        return;
      }
      const cat = cats[index];
      const inputs = Array.from(cat.querySelectorAll(".scale input"));
      if (/^[1-9]$/.test(e.key)) {
        if (cat.dataset.type === "likert") {
          const input = inputs.find((x) => x.value === e.key);
          if (input) { input.checked = true; cat.dataset.touched = "1"; go(index + 1); }
        } else if (cat.dataset.type === "flags") {
          const input = inputs[Number(e.key) - 1];
          if (input) { input.checked = !input.checked; cat.dataset.touched = "1"; mark(); }
        } else if (cat.dataset.type === "binary" && (e.key === "1" || e.key === "2")) {
          inputs[Number(e.key) - 1].checked = true; go(index + 1);
        }
        e.preventDefault();
      } else if ((e.key === "y" || e.key === "n") && cat.dataset.type === "binary") {
        inputs.find((x) => x.value === (e.key === "y" ? "yes" : "no")).checked = true; go(index + 1); e.preventDefault();
      } else if (e.key === "j" || e.key === "ArrowDown") { if (cat.dataset.type === "flags") cat.dataset.touched = "1"; go(index + 1); e.preventDefault(); }
      else if (e.key === "k" || e.key === "ArrowUp") { go(index - 1); e.preventDefault(); }
      else if (e.key === "u") { const box = cat.querySelector(".unclear input"); box.checked = !box.checked; e.preventDefault(); }
      else if (e.key === "/") { note.focus(); e.preventDefault(); }
      else if (e.key === "s") { submit(skip); e.preventDefault(); }
      else if (e.key === "Enter") { submit(form); e.preventDefault(); }
    });
    go(0);
    return;
  }

  // Comparison: rank numbers live in the inputs; keys and drag only change them.
  const list = document.getElementById("ranking");
  const items = () => Array.from(list.querySelectorAll("li.candidate"));
  const mark = () => items().forEach((li, i) => li.classList.toggle("active", i === index));
  const renumber = () => items().forEach((li, i) => { li.querySelector("input").value = i + 1; });
  const go = (i) => { index = Math.max(0, Math.min(items().length - 1, i)); mark(); items()[index].scrollIntoView({ block: "nearest" }); };
  const move = (delta) => {
    const all = items(); const li = all[index]; const to = index + delta;
    if (to < 0 || to >= all.length) return;
    if (delta < 0) list.insertBefore(li, all[to]); else list.insertBefore(all[to], li);
    renumber(); go(to);
  };
  let dragged = null;
  items().forEach((li, i) => {
    li.addEventListener("click", () => { index = items().indexOf(li); mark(); });
    li.addEventListener("dragstart", () => { dragged = li; });
    li.addEventListener("dragover", (e) => e.preventDefault());
    li.addEventListener("drop", (e) => {
      e.preventDefault(); if (!dragged || dragged === li) return;
      const all = items();
      if (all.indexOf(dragged) < all.indexOf(li)) li.after(dragged); else li.before(dragged);
      renumber(); index = items().indexOf(dragged); mark();
    });
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(document.activeElement)) {
      if (e.key === "Escape") document.activeElement.blur();
      else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(form); }
      return;
    }
    if (/^[1-9]$/.test(e.key)) {
      if (Number(e.key) <= items().length) { items()[index].querySelector("input").value = e.key; go(index + 1); }
      e.preventDefault();
    } else if (e.key === "J") { move(1); e.preventDefault(); }
    else if (e.key === "K") { move(-1); e.preventDefault(); }
    else if (e.key === "j" || e.key === "ArrowDown") { go(index + 1); e.preventDefault(); }
    else if (e.key === "k" || e.key === "ArrowUp") { go(index - 1); e.preventDefault(); }
    else if (e.key === "u") { const box = document.getElementById("unclear-all"); box.checked = !box.checked; e.preventDefault(); }
    else if (e.key === "/") { note.focus(); e.preventDefault(); }
    else if (e.key === "s") { submit(skip); e.preventDefault(); }
    else if (e.key === "Enter") { submit(form); e.preventDefault(); }
  });
  go(0);
})();
