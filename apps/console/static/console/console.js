// The Console's behaviour, loaded as a static file (the CSP allows no inline script).
"use strict";
(function () {
  // Lookup fields: a search box above the select refills its options from the
  // Console's autocomplete route (rows the reader may read, through objectql).
  function attachLookup(select) {
    const url = select.dataset.searchUrl;
    if (!url) { return; }
    const box = document.createElement("input");
    box.type = "search";
    box.className = "lookup-search";
    box.placeholder = "Search…";
    box.setAttribute("aria-label", "Search " + (select.name || ""));
    select.parentNode.insertBefore(box, select);
    let timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(url + "&term=" + encodeURIComponent(box.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            const current = select.value;
            const keep = Array.from(select.options).filter(function (o) { return o.value === "" || o.value === current; });
            select.innerHTML = "";
            keep.forEach(function (o) { select.appendChild(o); });
            data.results.forEach(function (item) {
              if (item.id === current) { return; }
              const option = document.createElement("option");
              option.value = item.id;
              option.textContent = item.text;
              select.appendChild(option);
            });
          });
      }, 200);
    });
  }
  // Confirm texts of actions and deletions (data-confirm on a form or button).
  function attachConfirm(element) {
    element.addEventListener(element.tagName === "FORM" ? "submit" : "click", function (event) {
      if (!window.confirm(element.dataset.confirm)) { event.preventDefault(); }
    });
  }
  // visibleWhen as the reader edits: the form's values go to the server, which
  // evaluates the conditions (no CEL here) and answers which rows and sections show.
  function attachVisibility(form) {
    const url = form.dataset.visibilityUrl;
    const token = form.querySelector("input[name=csrfmiddlewaretoken]");
    let timer = null;
    let asked = 0;
    function apply(answer) {
      Object.entries(answer.fields || {}).forEach(function ([name, shown]) {
        form.querySelectorAll(".form-row[data-field='" + name + "']").forEach(function (row) { row.hidden = !shown; });
      });
      Object.entries(answer.sections || {}).forEach(function ([name, shown]) {
        form.querySelectorAll("fieldset[data-section='" + name + "']").forEach(function (section) { section.hidden = !shown; });
      });
    }
    function ask() {
      const body = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") { body.append(key, value); }
      });
      const number = ++asked;
      fetch(url, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" },
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) { if (answer && number === asked) { apply(answer); } });
    }
    function later() { clearTimeout(timer); timer = setTimeout(ask, 150); }
    form.addEventListener("change", later);
    form.addEventListener("input", later);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-visibility-url]").forEach(attachVisibility);
    document.querySelectorAll("select[data-search-url]").forEach(attachLookup);
    document.querySelectorAll("[data-confirm]").forEach(attachConfirm);
  });
})();
