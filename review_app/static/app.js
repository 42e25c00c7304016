// lurewatch review: keyboard shortcuts. No inline script anywhere (the CSP forbids it); this file only reads
// data- attributes and clicks/submits elements that are already in the page.
"use strict";

(function () {
  let submitting = false;

  function typingIn(target) {
    return target instanceof Element && target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function activate(element) {
    if (element.dataset.explains) {
      // A disabled action (e.g. export without a pseudonymisation key): show why instead of doing nothing.
      element.classList.add("flash-reason");
      element.focus();
      return;
    }
    if (element instanceof HTMLButtonElement && element.form) {
      if (submitting) return;
      submitting = true;
      element.form.requestSubmit(element);
      return;
    }
    element.click();
  }

  // Queue: j/k move a selection over the rows, o/Enter opens the selected ad.
  const rows = Array.from(document.querySelectorAll(".queue-item"));
  let selected = rows.length ? 0 : -1;

  function select(index) {
    if (!rows.length) return;
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("selected", i === selected));
    rows[selected].scrollIntoView({ block: "nearest" });
  }

  if (rows.length) {
    select(0);
    rows.forEach((row, i) => {
      row.addEventListener("click", (event) => {
        if (event.target instanceof Element && event.target.closest("a, button")) return;
        select(i);
        window.location.assign(row.dataset.href);
      });
    });
  }

  // A page restored from the back/forward cache must accept keys again.
  window.addEventListener("pageshow", () => {
    submitting = false;
  });

  document.querySelectorAll("form").forEach((form) => {
    form.addEventListener("submit", () => {
      submitting = true;
    });
  });

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typingIn(event.target)) {
      if (event.key === "Escape" && event.target instanceof HTMLElement) event.target.blur();
      return;
    }
    const key = event.key;

    if (rows.length && (key === "j" || key === "k")) {
      event.preventDefault();
      select(selected + (key === "j" ? 1 : -1));
      return;
    }
    if (rows.length && (key === "o" || key === "Enter") && selected >= 0) {
      event.preventDefault();
      window.location.assign(rows[selected].dataset.href);
      return;
    }
    if (key === "/") {
      const search = document.getElementById("f-q");
      if (search) {
        event.preventDefault();
        search.focus();
      }
      return;
    }
    const focusTarget = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (focusTarget instanceof HTMLElement) {
      event.preventDefault();
      focusTarget.focus();
      return;
    }
    const target = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (target instanceof HTMLElement) {
      event.preventDefault();
      activate(target);
    }
  });
})();
