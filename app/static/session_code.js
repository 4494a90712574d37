// The check-in code page reloads itself while the code is valid, so the count of
// check-ins on the projector stays current. Without JavaScript, "刷新人数" does the same.
(function () {
  var screen = document.querySelector("[data-refresh-seconds]");
  if (!screen) return;
  var seconds = parseInt(screen.getAttribute("data-refresh-seconds"), 10) || 15;
  function tick() {
    // Not while the trainer is typing a new validity time.
    if (document.activeElement && document.activeElement.tagName === "INPUT") {
      window.setTimeout(tick, 5000);
    } else {
      window.location.reload();
    }
  }
  window.setTimeout(tick, seconds * 1000);
})();
