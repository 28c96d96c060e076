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

// Autocomplete: a search box next to a select of related rows fetches matches from the
// admin's JSON endpoint and offers them in the select (which keeps working without it).
(function () {
  "use strict";

  function fill(select, results) {
    var current = select.value;
    var keep = Array.prototype.filter.call(select.options, function (option) {
      return option.value === "" || option.value === current;
    });
    select.innerHTML = "";
    keep.forEach(function (option) { select.appendChild(option); });
    results.forEach(function (item) {
      if (item.id === current) { return; }
      var option = document.createElement("option");
      option.value = item.id;
      option.textContent = item.text;
      select.appendChild(option);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-autocomplete-for]").forEach(function (input) {
      var select = document.getElementById(input.getAttribute("data-autocomplete-for"));
      var url = input.getAttribute("data-url");
      var timer = null;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          var address = url + "?term=" + encodeURIComponent(input.value) + "&page=1";
          window.fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (response) { return response.ok ? response.json() : { results: [] }; })
            .then(function (data) { fill(select, data.results || []); })
            .catch(function () { /* the select keeps its options */ });
        }, 200);
      });
    });
  });
})();
