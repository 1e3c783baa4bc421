// swi portal: small improvements where JavaScript runs; every page works without it.
// A button with data-confirm asks before its form is sent.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  var text = b && b.getAttribute("data-confirm");
  if (text && !window.confirm(text)) { e.preventDefault(); }
});
