// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Copy a quick reply (or any [data-copy] text) to the clipboard with one click.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var text = source.innerText;
    if (source.querySelector("[data-gap]")) {
      // A quick reply with gaps: copied only once every gap is filled, with what was typed.
      var empty = source.querySelector("[data-gap]:placeholder-shown");
      if (empty) { empty.focus(); return; }
      text = Array.prototype.map.call(source.childNodes, function (node) {
        return node.matches && node.matches("[data-gap]") ? node.value.trim() : node.textContent;
      }).join("");
    }
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "✓";
      setTimeout(function () { button.textContent = label; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      document.body.removeChild(area);
      done();
    }
  });

  // A suggested value ([data-fill-target], e.g. the rate card's postage) typed in by one click.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-target]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-fill-target"));
    if (!field) return;
    field.value = button.getAttribute("data-fill-value");
    field.focus();
  });

  // A quick reply's gap: the same placeholder twice takes the same value; copy waits for all.
  document.addEventListener("input", function (event) {
    var gap = event.target.closest("[data-gap]");
    if (!gap) return;
    var source = gap.parentNode;
    source.querySelectorAll("[data-gap]").forEach(function (other) {
      if (other !== gap && other.getAttribute("data-gap") === gap.getAttribute("data-gap")) other.value = gap.value;
    });
    var button = document.querySelector('[data-copy-target="' + source.id + '"]');
    var missing = Array.prototype.some.call(source.querySelectorAll("[data-gap]"), function (g) { return !g.value.trim(); });
    if (button) button.disabled = missing;
  });

  // Filter the quick replies as the agent types.
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-filter-list]")) return;
    var term = event.target.value.trim().toLowerCase();
    var list = document.getElementById(event.target.getAttribute("data-filter-list"));
    if (!list) return;
    list.querySelectorAll("[data-filter-text]").forEach(function (row) {
      row.hidden = term && row.getAttribute("data-filter-text").toLowerCase().indexOf(term) === -1;
    });
  });

  // Reveal the receiver's data in place (the POST is recorded on the server).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-reveal]")) return;
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) { form.submit(); return null; }
      return response.text();
    }).then(function (html) {
      if (html === null) return;
      var target = document.getElementById(form.getAttribute("data-reveal"));
      if (target) target.outerHTML = html;
    });
  });

  // Opening a ticket: what goes out (换出商品) is asked for an exchange only.
  var kindSelect = document.getElementById("id_kind");
  var exchangeOnly = document.querySelectorAll("[data-exchange-only]");
  if (kindSelect && exchangeOnly.length) {
    var showExchange = function () {
      exchangeOnly.forEach(function (el) { el.hidden = kindSelect.value !== "exchange"; });
    };
    kindSelect.addEventListener("change", showExchange);
    showExchange();
  }

  // Opening a ticket: the reason suggests who is responsible, and that says who pays postage.
  var map = document.getElementById("responsibility-map");
  var reason = document.getElementById("id_reason");
  var responsibility = document.getElementById("id_responsibility");
  var payer = document.querySelector("[data-payer-for]");
  function showPayer() {
    if (!payer || !responsibility) return;
    var who = responsibility.value === "buyer" ? "buyer" : responsibility.value === "courier" ? "courier" : "shop";
    payer.textContent = payer.getAttribute("data-payer-" + who);
  }
  if (map && reason && responsibility) {
    var suggestions = JSON.parse(map.textContent);
    reason.addEventListener("change", function () {
      if (suggestions[reason.value]) responsibility.value = suggestions[reason.value];
      showPayer();
    });
    responsibility.addEventListener("change", showPayer);
    if (!responsibility.dataset.touched && suggestions[reason.value]) responsibility.value = suggestions[reason.value];
    showPayer();
  }

  // Ask before actions that can't be undone.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // A double click on a submit button sends one request (the server also refuses twice).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post" || form.matches("[data-reveal]")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });
})();
