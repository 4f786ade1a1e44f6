// The chat page: streams answers from POST /api/chat, shows disclosures and enforcement
// notices, and sends thumbs/flags to /api/chat/feedback. No dependencies, no build step.
(function () {
  "use strict";
  const app = document.getElementById("chat-app");
  if (!app) return;
  const page = JSON.parse(app.dataset.page);
  const csrf = app.dataset.csrf;
  const transcript = document.getElementById("transcript");
  const form = document.getElementById("ask");
  const prompt = document.getElementById("prompt");
  const send = document.getElementById("send");
  const template = document.getElementById("answer-template");
  const status = document.getElementById("profile-status");
  let messages = [];

  function headers() {
    return { "Content-Type": "application/json", "X-CSRF-Token": csrf };
  }

  function settings() {
    const chosen = {};
    document.querySelectorAll("#profile-form select").forEach(function (s) {
      if (!s.disabled) chosen[s.name] = s.value;
    });
    return chosen;
  }

  function userTurn(text) {
    const li = document.createElement("li");
    li.className = "turn user";
    const role = document.createElement("div");
    role.className = "role";
    role.textContent = "you";
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = text;
    li.append(role, body);
    transcript.append(li);
  }

  function answerTurn() {
    const li = template.content.firstElementChild.cloneNode(true);
    const select = li.querySelector("select[name=category]");
    page.categories.forEach(function (c) {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = c.id.replace(/_/g, " ") + " — " + c.question;
      select.append(o);
    });
    transcript.append(li);
    return li;
  }

  async function feedback(li, body) {
    const out = li.querySelector(".feedback-status");
    body.answer_id = li.dataset.answerId;
    const r = await fetch("/api/chat/feedback", { method: "POST", headers: headers(),
                                                   body: JSON.stringify(body) });
    const data = await r.json();
    out.textContent = r.ok ? "Thank you — feedback recorded." : (data.error || "failed");
    if (r.ok && body.kind === "flag") li.querySelector(".flag-form").hidden = true;
  }

  function wire(li) {
    li.querySelectorAll(".thumb").forEach(function (b) {
      b.addEventListener("click", function () { feedback(li, { kind: b.dataset.kind }); });
    });
    li.querySelector(".flag-open").addEventListener("click", function () {
      const f = li.querySelector(".flag-form");
      f.hidden = !f.hidden;
    });
    li.querySelector(".flag-form").addEventListener("submit", function (e) {
      e.preventDefault();
      const f = e.target;
      feedback(li, { kind: "flag", category: f.category.value, comment: f.comment.value });
    });
  }

  function handle(li, event) {
    const body = li.querySelector(".body");
    if (event.type === "start") {
      li.dataset.answerId = event.id;
      const box = li.querySelector(".disclosures");
      event.disclosures.forEach(function (d) {
        const p = document.createElement("p");
        p.className = "disclosure";
        p.textContent = d;
        box.append(p);
      });
    } else if (event.type === "delta") {
      // The disclosures arrive first in the stream too; they are shown above, apart.
      body.textContent += event.text;
    } else if (event.type === "done") {
      let text = event.text;
      li.querySelectorAll(".disclosure").forEach(function (p) {
        text = text.replace(p.textContent + "\n", "");
      });
      if (event.notice) text = text.replace(event.notice + " ", "");  // shown apart, below
      body.textContent = text.replace(/^\n+/, "");
      if (event.enforced) {
        const n = li.querySelector(".enforced");
        n.hidden = false;
        n.textContent = (event.notice || "An answer was withheld.") +
          " You see the platform's safe reply in its place.";
      }
      messages.push({ role: "assistant", content: body.textContent });
      wire(li);
      li.classList.add("complete");
    } else if (event.type === "error") {
      body.textContent = "Error: " + event.error;
      li.classList.add("failed");
    }
  }

  async function ask(text) {
    messages.push({ role: "user", content: text });
    userTurn(text);
    const li = answerTurn();
    send.disabled = true;
    const model = document.getElementById("model");
    try {
      const r = await fetch("/api/chat", { method: "POST", headers: headers(),
        body: JSON.stringify({ model: model ? model.value : null, messages: messages,
                               settings: settings() }) });
      if (!r.ok) {
        const data = await r.json().catch(function () { return {}; });
        handle(li, { type: "error", error: data.error || r.statusText });
        messages.pop();
        return;
      }
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let at;
        while ((at = buffer.indexOf("\n\n")) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (line.startsWith("data: ")) handle(li, JSON.parse(line.slice(6)));
        }
      }
    } finally {
      send.disabled = false;
      prompt.focus();
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const text = prompt.value.trim();
    if (!text) return;
    prompt.value = "";
    ask(text);
  });
  prompt.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("new-chat").addEventListener("click", function () {
    messages = [];
    transcript.textContent = "";
  });
  const save = document.getElementById("save-profile");
  if (save) {
    save.addEventListener("click", async function () {
      const r = await fetch("/api/chat/profile", { method: "POST", headers: headers(),
        body: JSON.stringify({ settings: settings() }) });
      const data = await r.json();
      status.textContent = r.ok ? "Saved as your profile." : data.error;
    });
  }
})();
