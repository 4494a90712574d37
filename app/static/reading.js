// Reading time: a heartbeat every 15 seconds while the lesson is visible. The server
// decides how much time counts; this only reports that the page is being read.
(function () {
  "use strict";
  var box = document.querySelector("[data-heartbeat]");
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
  if (!box) { return; }
  var url = box.getAttribute("data-heartbeat");
  var needed = parseInt(box.getAttribute("data-needed"), 10);
  var opened = box.getAttribute("data-opened") || "";
  var shown = box.querySelector("[data-seconds]");
  var done = box.querySelector("[data-done]");
  var reason = box.querySelector("[data-reason]");
  var jsField = box.querySelector("input[name=js]");
  if (jsField) { jsField.value = "1"; }

  function token() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function show(seconds) {
    if (shown) { shown.textContent = Math.floor(seconds / 60) + " 分 " + (seconds % 60) + " 秒"; }
    if (!done) { return; }
    if (seconds >= needed) {
      done.disabled = false;
      if (reason) { reason.textContent = "阅读时间已够，可以点“我已学完”。"; }
    } else {
      done.disabled = true;
      var left = Math.max(1, Math.round((needed - seconds) / 60));
      if (reason) { reason.textContent = "还需阅读约 " + left + " 分钟（页面在前台时才计时）。"; }
    }
  }
  function beat() {
    if (document.visibilityState !== "visible") { return; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-csrftoken": token(), "content-type": "application/x-www-form-urlencoded" },
      body: "opened=" + encodeURIComponent(opened)
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data.active_seconds); } })
      .catch(function () {});
  }
  var initial = shown ? shown.textContent.match(/(\d+) 分 (\d+) 秒/) : null;
  show(initial ? parseInt(initial[1], 10) * 60 + parseInt(initial[2], 10) : 0);
  setInterval(beat, 15000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { beat(); }
  });
})();
