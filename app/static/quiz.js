// The quiz page: each answer is sent as soon as it is given and shown as saved only once the
// server has stored it. A failed save is kept and sent again until it goes through. The
// countdown is the server's: the page only counts down from the seconds it was given.
(function () {
  "use strict";
  var form = document.querySelector("[data-paper]");
  if (!form) { return; }
  var saveUrl = form.getAttribute("data-save-url");
  var eventUrl = form.getAttribute("data-event-url");
  var status = document.querySelector("[data-save-status]");
  var countdown = document.querySelector("[data-seconds-left]");
  var dialog = document.querySelector("[data-submit-dialog]");
  var pending = {};       // position → number of its latest change not yet stored
  var sending = false;
  var retryTimer = null;
  var timers = {};

  function token() {
    var field = form.querySelector("input[name=_csrf_token]");
    return field ? field.value : "";
  }
  function show(text, kind) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "save-status " + (kind || "");
  }
  function fieldsOf(position) {
    return form.querySelectorAll("[name=q" + position + "]");
  }
  function answered(position) {
    var fields = fieldsOf(position);
    if (!fields.length) { return false; }
    if (fields[0].type === "text") {
      for (var i = 0; i < fields.length; i++) { if (!fields[i].value.trim()) { return false; } }
      return true;
    }
    for (var j = 0; j < fields.length; j++) { if (fields[j].checked) { return true; } }
    return false;
  }
  function refreshSheet() {
    var links = document.querySelectorAll("[data-sheet]");
    var count = 0;
    for (var i = 0; i < links.length; i++) {
      var done = answered(links[i].getAttribute("data-sheet"));
      links[i].classList.toggle("answered", done);
      if (done) { count++; }
    }
    var shown = document.querySelector("[data-answered-count]");
    if (shown) { shown.textContent = count; }
  }
  function unanswered() {
    var links = document.querySelectorAll("[data-sheet]");
    var missing = [];
    for (var i = 0; i < links.length; i++) {
      var position = links[i].getAttribute("data-sheet");
      if (!answered(position)) { missing.push(position); }
    }
    return missing;
  }

  function send() {
    var positions = Object.keys(pending);
    if (sending || !positions.length) { return; }
    sending = true;
    var sent = {};
    positions.forEach(function (p) { sent[p] = pending[p]; });
    var body = new URLSearchParams();
    body.append("_csrf_token", token());
    positions.forEach(function (position) {
      var fields = fieldsOf(position);
      var any = false;
      for (var i = 0; i < fields.length; i++) {
        var f = fields[i];
        if (f.type === "text" || f.checked) { body.append(f.name, f.value); any = true; }
      }
      if (!any) { body.append("q" + position, ""); }
    });
    show("正在保存…", "saving");
    fetch(saveUrl, {
      method: "POST", credentials: "same-origin", body: body, keepalive: true,
      headers: { "x-requested-with": "fetch", "x-csrftoken": token() }
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (response.redirected || type.indexOf("json") < 0) {
        // Signed out (the session ended) or the page expired: retrying would not help.
        return { status: 401, data: { message: "登录已过期，答案还在本页上：请在新窗口重新登录后回到这里，答案会自动重新提交" } };
      }
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      sending = false;
      if (result.status === 200 && result.data.ok) {
        result.data.saved.forEach(function (p) {
          // An answer changed again while this one was on its way stays pending.
          if (pending[p] === sent[p]) { delete pending[p]; }
        });
        show(Object.keys(pending).length ? "正在保存…" : "已保存", "saved");
        if (Object.keys(pending).length) { send(); }
      } else if (result.status === 409) {
        show(result.data.message, "failed");
        window.location.reload();
      } else {
        show(result.data.message || "保存失败，请检查网络，答案会在恢复后重新提交", "failed");
        if (result.status >= 500 || result.status === 401) { retryLater(); }
      }
    }).catch(function () {
      sending = false;
      show("保存失败，请检查网络，答案会在恢复后重新提交", "failed");
      retryLater();
    });
  }
  function retryLater() {
    if (!retryTimer) {
      retryTimer = setTimeout(function () { retryTimer = null; send(); }, 5000);
    }
  }
  var stamp = 0;  // each change gets a number, so a change made mid-request stays pending
  function changed(position) {
    stamp++;
    pending[position] = stamp;
    refreshSheet();
    send();
  }

  form.addEventListener("change", function (event) {
    var match = /^q(\d+)$/.exec(event.target.name || "");
    if (match) { changed(match[1]); }
  });
  form.addEventListener("input", function (event) {
    var match = /^q(\d+)$/.exec(event.target.name || "");
    if (!match || event.target.type !== "text") { return; }
    clearTimeout(timers[match[1]]);
    timers[match[1]] = setTimeout(function () { timers[match[1]] = null; changed(match[1]); }, 800);
  });
  window.addEventListener("online", send);
  // Text typed in the last moment, still waiting for its pause, is sent now.
  function flushTyping() {
    Object.keys(timers).forEach(function (position) {
      if (timers[position]) {
        clearTimeout(timers[position]);
        timers[position] = null;
        changed(position);
      }
    });
  }

  // 交卷: list the unanswered questions and ask for confirmation.
  var submitButton = form.querySelector("[data-submit]");
  if (submitButton && dialog && typeof dialog.showModal === "function") {
    submitButton.addEventListener("click", function (event) {
      event.preventDefault();
      var missing = unanswered();
      dialog.querySelector("[data-unanswered-text]").textContent = missing.length
        ? "还有 " + missing.length + " 道题没有作答：第 " + missing.join("、") + " 题。"
        : "所有题目都已作答。";
      dialog.showModal();
    });
    dialog.querySelector("[data-dialog-cancel]").addEventListener("click", function () {
      dialog.close();
    });
    dialog.querySelector("form").addEventListener("submit", function (event) {
      if (Object.keys(pending).length) {
        // Answers not yet stored go along with the submission, as a form without JavaScript.
        event.preventDefault();
        var full = form.cloneNode(true);
        full.action = dialog.querySelector("form").action;
        var confirm = document.createElement("input");
        confirm.type = "hidden"; confirm.name = "confirm"; confirm.value = "1";
        full.appendChild(confirm);
        full.hidden = true;
        document.body.appendChild(full);
        full.submit();
      }
    });
  }

  // The countdown, from the seconds the server gave; at zero the page asks the server.
  if (countdown) {
    var left = parseInt(countdown.getAttribute("data-seconds-left"), 10);
    var started = Date.now();
    var tick = function () {
      var remaining = Math.max(0, left - Math.floor((Date.now() - started) / 1000));
      countdown.textContent = "剩余 " + Math.floor(remaining / 60) + " 分 " + (remaining % 60) + " 秒";
      countdown.classList.toggle("urgent", remaining <= 60);
      if (remaining <= 0) {
        // Time is up: answers still on their way count within the server's grace period,
        // so the page waits for them before it asks the server for the result.
        clearInterval(timer);
        flushTyping();
        send();
        var waited = 0;
        var wait = setInterval(function () {
          waited++;
          if ((!sending && !Object.keys(pending).length) || waited >= 55) {
            clearInterval(wait);
            window.location.reload();
          }
        }, 1000);
      }
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  // During a timed quiz, leaving by a link or a form outside the paper (the menu, the header)
  // is asked first, in the page: the clock keeps running while the cadre is away. Answers
  // still on their way are sent before the page is left.
  var leaveDialog = document.querySelector("[data-leave-dialog]");
  if (countdown && leaveDialog && typeof leaveDialog.showModal === "function") {
    var leaveStatus = leaveDialog.querySelector("[data-leave-status]");
    var leaveButton = leaveDialog.querySelector("[data-leave-go]");
    var go = null;          // how to leave, once confirmed
    var letThrough = false; // a form submitted after confirmation passes unasked
    var watching = null;    // keeps the dialog's save status current while it is open
    var unsaved = function () { return Object.keys(pending).length; };
    var describe = function () {
      var text = unsaved() ? "还有 " + unsaved() + " 道题的答案正在保存…" : "您的答案都已保存。";
      if (leaveStatus.textContent !== text) { leaveStatus.textContent = text; }
    };
    var ask = function (leave) {
      go = leave;
      flushTyping();
      send();
      describe();
      leaveButton.textContent = "离开本页";
      leaveButton.disabled = false;
      leaveDialog.showModal();
      clearInterval(watching);
      watching = setInterval(function () {
        if (leaveButton.getAttribute("data-anyway") !== "1") { describe(); }
      }, 500);
    };
    var outside = function (element) {
      return !form.contains(element) && !element.closest("dialog");
    };
    document.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;
      }
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || !outside(link)) { return; }
      var href = link.getAttribute("href") || "";
      if (href.charAt(0) === "#" || link.hasAttribute("download")) { return; }
      if (link.target && link.target !== "_self") { return; }
      event.preventDefault();
      ask(function () { window.location.href = link.href; });
    }, true);
    document.addEventListener("submit", function (event) {
      var other = event.target;
      if (letThrough || !outside(other)) { return; }
      event.preventDefault();
      var submitter = event.submitter || null;
      ask(function () {
        letThrough = true;
        if (other.requestSubmit) { other.requestSubmit(submitter); } else { other.submit(); }
        letThrough = false;
      });
    }, true);
    leaveDialog.querySelector("[data-leave-cancel]").addEventListener("click", function () {
      go = null;
      leaveDialog.close();
    });
    leaveButton.addEventListener("click", function () {
      if (!go) { return; }
      var leave = go;
      if (!unsaved() || leaveButton.getAttribute("data-anyway") === "1") {
        leaveDialog.close();
        leave();
        return;
      }
      // Wait for the answers on their way; if they can't be stored, say so and let the
      // cadre choose.
      leaveButton.disabled = true;
      var waited = 0;
      var wait = setInterval(function () {
        waited++;
        if (go !== leave) {  // the cadre chose to stay meanwhile
          clearInterval(wait);
          leaveButton.disabled = false;
          return;
        }
        describe();
        if (!unsaved()) {
          clearInterval(wait);
          leaveDialog.close();
          leave();
        } else if (waited >= 10) {
          clearInterval(wait);
          leaveStatus.textContent = "还有 " + unsaved() + " 道题的答案没能保存，请检查网络。现在离开，这些答案会丢失。";
          leaveButton.textContent = "仍然离开";
          leaveButton.setAttribute("data-anyway", "1");
          leaveButton.disabled = false;
        }
      }, 1000);
    });
    leaveDialog.addEventListener("close", function () {
      go = null;
      clearInterval(watching);
      leaveButton.removeAttribute("data-anyway");
    });
  }

  // Leaving the page is noted for the trainer; it never blocks the cadre.
  document.addEventListener("visibilitychange", function () {
    var data = new FormData();
    data.append("_csrf_token", token());
    data.append("kind", document.visibilityState === "hidden" ? "leave" : "return");
    if (navigator.sendBeacon) { navigator.sendBeacon(eventUrl, data); }
    if (document.visibilityState === "hidden") { flushTyping(); send(); }
  });
  refreshSheet();
})();
