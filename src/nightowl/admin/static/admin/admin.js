// nightowl admin: selection of rows for actions, and the theme switch. No inline scripts:
// this file is the only script of the admin's pages, so a strict CSP works.
(function () {
  "use strict";

  function updateCounter(form) {
    var boxes = form.querySelectorAll("input.action-select");
    var checked = form.querySelectorAll("input.action-select:checked");
    var counter = form.querySelector("[data-action-counter]");
    var toggle = form.querySelector("#action-toggle");
    if (counter) {
      counter.textContent = checked.length + " of " + boxes.length + " selected";
    }
    if (toggle) {
      toggle.checked = boxes.length > 0 && checked.length === boxes.length;
    }
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("selected", box.checked); }
    });
  }

  function setUpActions() {
    var form = document.getElementById("changelist-form");
    if (!form) { return; }
    var toggle = form.querySelector("#action-toggle");
    if (toggle) {
      toggle.addEventListener("change", function () {
        form.querySelectorAll("input.action-select").forEach(function (box) {
          box.checked = toggle.checked;
        });
        updateCounter(form);
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.classList && event.target.classList.contains("action-select")) {
        updateCounter(form);
      }
    });
    updateCounter(form);
  }

  function setUpTheme() {
    var root = document.documentElement;
    var saved = null;
    try { saved = window.localStorage.getItem("nightowl-admin-theme"); } catch (e) { saved = null; }
    if (saved === "dark" || saved === "light") { root.setAttribute("data-theme", saved); }
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var dark = root.getAttribute("data-theme") === "dark" ||
          (!root.getAttribute("data-theme") && window.matchMedia("(prefers-color-scheme: dark)").matches);
        var next = dark ? "light" : "dark";
        root.setAttribute("data-theme", next);
        try { window.localStorage.setItem("nightowl-admin-theme", next); } catch (e) { /* private mode */ }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpActions();
    setUpTheme();
  });
})();
