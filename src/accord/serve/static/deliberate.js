// Deliberation pages, no build step and no dependencies. The forms work without this
// script; it adds the keys listed on the page (a / d / p to vote, "/" to write a
// statement) and, on the ratification page, a starting template per kind of change.
(function () {
  "use strict";
  const typing = (el) => el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
    (el.tagName === "INPUT" && el.type !== "checkbox" && el.type !== "radio"));
  const vote = document.getElementById("vote-form");
  const box = document.getElementById("new-statement");
  const statementForm = document.getElementById("statement-form");
  const keys = { a: "agree", d: "disagree", p: "pass" };
  let sent = false;

  if (vote || box) {
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typing(document.activeElement)) {
        if (e.key === "Escape") document.activeElement.blur();
        else if (e.key === "Enter" && !e.shiftKey && document.activeElement === box) {
          e.preventDefault();
          if (box.value.trim() && statementForm) statementForm.requestSubmit();
        }
        return;
      }
      const choice = keys[e.key.toLowerCase()];
      if (choice && vote && !sent) {
        const button = vote.querySelector(`button[value="${choice}"]`);
        if (button) { sent = true; button.classList.add("chosen"); vote.requestSubmit(button); }
        e.preventDefault();
      } else if (e.key === "/" && box) {
        box.focus();
        e.preventDefault();
      }
    });
  }

  // Ratification: switching the kind offers that kind's template while the text is untouched.
  document.querySelectorAll("form.draft-form").forEach((form) => {
    const select = form.querySelector(".kind-select");
    const text = form.querySelector(".change-text");
    if (!select || !text) return;
    const templates = JSON.parse(select.dataset.templates || "{}");
    let untouched = Object.values(templates).includes(text.value);
    text.addEventListener("input", () => { untouched = false; });
    select.addEventListener("change", () => {
      if (untouched && templates[select.value]) text.value = templates[select.value];
    });
  });
})();
