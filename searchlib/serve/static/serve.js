// searchlib serve: completion as you type in the search box (the ARIA combobox
// pattern: arrows to move, Enter to search the one chosen, Escape to close).
// The page works without this file: the form is a plain GET.
"use strict";
(function () {
  const input = document.getElementById("q");
  const list = document.getElementById("completions");
  if (!input || !list || !window.fetch) return;
  const form = input.form;
  let active = -1;
  let timer = 0;
  let pending = null;
  let options = [];

  function close() {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function choose(i) {
    active = i;
    options.forEach(function (li, n) { li.setAttribute("aria-selected", n === i ? "true" : "false"); });
    if (i >= 0) input.setAttribute("aria-activedescendant", options[i].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function pick(i) {
    input.value = options[i].dataset.query;
    close();
    form.submit();
  }

  function show(found) {
    close();
    found.forEach(function (c, n) {
      const li = document.createElement("li");
      li.id = "completion-" + n;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.query = c.query;
      li.textContent = c.query;  // text, never HTML
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(n); });
      list.appendChild(li);
      options.push(li);
    });
    if (options.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  }

  function ask() {
    const text = input.value;
    if (pending) pending.abort();
    if (text.trim().length < 2 || /\s$/.test(text)) { close(); return; }
    pending = new AbortController();
    fetch("/api/complete?limit=8&q=" + encodeURIComponent(text), { signal: pending.signal })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (found) { if (input.value === text) show(found); })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  });
  input.addEventListener("keydown", function (e) {
    if (list.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); choose((active + 1) % options.length); }
    else if (e.key === "ArrowUp") { e.preventDefault(); choose(active <= 0 ? options.length - 1 : active - 1); }
    else if (e.key === "Escape") { e.preventDefault(); close(); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); pick(active); }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });

  const sort = document.getElementById("sort");
  const passages = document.getElementById("passages");
  [sort, passages].forEach(function (el) {
    if (el) el.addEventListener("change", function () { if (input.value.trim()) form.submit(); });
  });
})();
