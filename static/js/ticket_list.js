// The ticket list's bulk bar: tick all on the page, count what is ticked, and keep Enter in
// the note box on "add note". Without it, ticking one by one and the buttons still work.
(function () {
  "use strict";
  var form = document.querySelector("form[data-bulk]");
  if (!form) return;
  var all = form.querySelector("[data-bulk-all]");
  var count = form.querySelector("[data-bulk-count]");
  var boxes = function () { return form.querySelectorAll("input[name=ids]"); };
  var idle = count ? count.textContent : "";

  function update() {
    var ticked = 0;
    boxes().forEach(function (box) {
      if (box.checked) ticked += 1;
      box.closest("tr").classList.toggle("picked", box.checked);
    });
    if (all) {
      all.checked = ticked > 0 && ticked === boxes().length;
      all.indeterminate = ticked > 0 && ticked < boxes().length;
    }
    if (count) {
      count.textContent = ticked ? count.getAttribute("data-template").replace("#", ticked) : idle;
      count.classList.toggle("some", ticked > 0);
    }
    form.querySelectorAll("button[name=action]").forEach(function (button) {
      button.disabled = ticked === 0;
    });
  }

  if (all) {
    all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
      update();
    });
  }
  // Cancelling in bulk can't be undone: ask first, naming how many (desk.js reads the
  // form's data-confirm; this listener on the form runs before desk.js's on the document).
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    var select = form.querySelector("select[name=to_status]");
    var option = select && select.options[select.selectedIndex];
    var message = button && button.value === "move" && option ? option.getAttribute("data-confirm") : null;
    if (message) {
      var ticked = form.querySelectorAll("input[name=ids]:checked").length;
      form.setAttribute("data-confirm", message.replace("#", ticked));
    } else {
      form.removeAttribute("data-confirm");
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.matches("input[name=ids]")) update();
  });
  update();
})();
