// Keyboard shortcuts for the common actions. The keys, their words (in the page's language)
// and where "g <key>" goes are in templates/partials/shortcuts.html; every page works without
// this file.
//
//   /      the top bar's search box           j / k   next / previous row of a list
//   Enter  opens the chosen row (its link)    n       the page's "new" link, else search
//   g d    dashboard (g t, g u: see help)      ?       this help (a <dialog>; Esc closes)
//
// Never while typing in a field (or choosing characters in a Chinese input method), and never
// with Ctrl, Alt or Meta held, so the browser's and the system's own shortcuts keep working.
(function () {
  "use strict";

  var help = document.getElementById("shortcut-help");
  var GO_TIMEOUT_MS = 1500;
  var goPending = 0;

  function isTyping(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    var field = target.closest("input, textarea, select, [contenteditable]");
    if (!field) return false;
    if (field.tagName !== "INPUT") return true;
    // Ticking a box or pressing a button is not typing.
    return !/^(checkbox|radio|button|submit|reset|image|file|range|color)$/i.test(field.type);
  }

  function searchBox() {
    return document.querySelector("form.find input[name=q]") ||
      document.querySelector("main input[type=search]");
  }

  function focusSearch() {
    var box = searchBox();
    if (!box) return false;
    box.focus();
    box.select();
    return true;
  }

  // A list row is a row of a table in the page with a link: its first link (or the one
  // marked data-row-link) is what Enter opens.
  function rowLink(row) {
    return row.querySelector("a[data-row-link][href]") || row.querySelector("a[href]");
  }

  function rows() {
    return Array.prototype.filter.call(
      document.querySelectorAll("main table tbody tr"),
      function (row) { return !row.hidden && row.offsetParent !== null && rowLink(row); }
    );
  }

  function currentRow(list) {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("tr") : null;
    if (row && list.indexOf(row) !== -1) return row;
    return document.querySelector("tr.kb-current");
  }

  function moveRow(step) {
    var list = rows();
    if (!list.length) return false;
    var index = list.indexOf(currentRow(list));
    index = index === -1 ? (step > 0 ? 0 : list.length - 1)
      : Math.min(list.length - 1, Math.max(0, index + step));
    var row = list[index];
    document.querySelectorAll("tr.kb-current").forEach(function (old) {
      old.classList.remove("kb-current");
    });
    row.classList.add("kb-current");
    // Focus moves to the row's link: Enter then opens it the way a click would, and a screen
    // reader reads the row's ticket.
    rowLink(row).focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    return true;
  }

  function openNew() {
    var hrefs = [];
    document.querySelectorAll("main a[href$='/new/']").forEach(function (link) {
      if (hrefs.indexOf(link.href) === -1) hrefs.push(link.href);
    });
    if (hrefs.length === 1) {
      window.location.assign(hrefs[0]);
      return true;
    }
    return focusSearch();
  }

  function go(key) {
    if (!help) return false;
    var target = help.querySelector("[data-go-key='" + key + "']");
    if (!target) return false;
    window.location.assign(target.getAttribute("data-go-href"));
    return true;
  }

  function showHelp() {
    if (!help || help.open) return false;
    if (typeof help.showModal === "function") help.showModal();
    else help.setAttribute("open", "");
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.keyCode === 229) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (isTyping(event.target)) {
      // Esc leaves the search box, so the next key is a shortcut again.
      if (key === "Escape" && event.target === searchBox()) event.target.blur();
      return;
    }
    if (help && help.open) return; // the dialog handles its own keys (Esc closes it)

    var handled = false;
    if (goPending && Date.now() - goPending < GO_TIMEOUT_MS) {
      goPending = 0;
      handled = go(key);
    } else if (key === "g") {
      goPending = Date.now();
      handled = true;
    } else {
      goPending = 0;
      if (key === "/") handled = focusSearch();
      else if (key === "?") handled = showHelp();
      else if (key === "j") handled = moveRow(1);
      else if (key === "k") handled = moveRow(-1);
      else if (key === "n") handled = openNew();
    }
    if (handled) event.preventDefault();
  });

  // A click outside the help's box (on the backdrop) closes it too.
  if (help) {
    help.addEventListener("click", function (event) {
      if (event.target === help) help.close();
    });
  }

  // The chosen row loses its mark once focus moves elsewhere by mouse or Tab.
  document.addEventListener("focusin", function (event) {
    var row = document.querySelector("tr.kb-current");
    if (row && !row.contains(event.target)) row.classList.remove("kb-current");
  });
})();
