// Reading time: a heartbeat every 15 seconds while the lesson is visible, and a count of
// the seconds read shown every second. The server decides how much time counts; each of its
// answers resets the count here, which only adds the time since, while the page is visible.
// The count never runs ahead of the server's, so 我已学完 unlocks when the server accepts it.
(function () {
  "use strict";
  var box = document.querySelector("[data-heartbeat]");
  if (!box) { return; }
  var url = box.getAttribute("data-heartbeat");
  var needed = parseInt(box.getAttribute("data-needed"), 10) || 0;
  var opened = box.getAttribute("data-opened") || "";
  var shown = box.querySelector("[data-seconds]");
  var done = box.querySelector("[data-done]");
  var reason = box.querySelector("[data-reason]");
  var jsField = box.querySelector("input[name=js]");
  if (jsField) { jsField.value = "1"; }

  // Seconds the server had credited, and when (this page's clock) that was true.
  var credited = parseInt(box.getAttribute("data-read"), 10) || 0;
  var since = Date.now();
  var visible = document.visibilityState === "visible";
  var last = -1;

  // The same words as reading_time_text in app/course/lessons.py.
  function duration(seconds) {
    if (seconds < 60) { return seconds + " 秒"; }
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return rest ? minutes + " 分 " + rest + " 秒" : minutes + " 分钟";
  }
  function seen() {
    return credited + (visible ? Math.max(0, Math.floor((Date.now() - since) / 1000)) : 0);
  }
  function show() {
    var seconds = seen();
    if (seconds === last) { return; }
    last = seconds;
    if (shown) { shown.textContent = duration(seconds); }
    if (!done) { return; }
    if (seconds >= needed) {
      done.disabled = false;
      done.removeAttribute("aria-disabled");
      if (reason) { reason.textContent = "阅读时间已够，可以点“我已学完”。"; }
    } else {
      done.disabled = true;
      done.setAttribute("aria-disabled", "true");
      if (reason) {
        reason.textContent = "还需阅读 " + duration(needed - seconds) + "（页面在前台时才计时）。";
      }
    }
  }
  function token() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
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
      .then(function (data) {
        if (data && typeof data.active_seconds === "number") {
          credited = data.active_seconds;
          since = Date.now();
          show();
        }
      })
      .catch(function () {});
  }
  show();
  setInterval(show, 250);
  setInterval(beat, 15000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      since = Date.now();
      visible = true;
      beat();
    } else {
      credited = seen();
      visible = false;
    }
    show();
  });
})();
