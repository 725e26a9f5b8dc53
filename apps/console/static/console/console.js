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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-search-url]").forEach(attachLookup);
    document.querySelectorAll("[data-confirm]").forEach(attachConfirm);
  });
})();
