// The question editor: hide the parts of the form the chosen type doesn't use, and keep the
// preview beside it up to date. The server renders the preview (the card a cadre sees); this
// only sends the form and puts the fragment it gets back in place.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  var pane = document.getElementById("preview-pane");
  if (!form || !pane || !window.fetch || !window.DOMParser) { return; }
  var url = form.getAttribute("data-preview-url");
  var status = document.querySelector("[data-preview-status]");
  var typeSelect = form.querySelector("select[name=type]");
  var timer = null;
  var sent = 0;

  function showParts() {
    var type = typeSelect ? typeSelect.value : "";
    var parts = form.querySelectorAll("[data-types]");
    for (var i = 0; i < parts.length; i++) {
      var types = parts[i].getAttribute("data-types").split(" ");
      parts[i].hidden = types.indexOf(type) < 0;
    }
  }
  function token() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function say(text) { if (status) { status.textContent = text; } }
  function refresh() {
    var mine = ++sent;
    var body = new URLSearchParams(new FormData(form));
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-csrftoken": token() },
      body: body
    })
      .then(function (response) {
        if (response.status !== 200 && response.status !== 422) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        if (mine !== sent) { return; }
        // Server-rendered and escaped by the template; parsed, never run as script.
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var nodes = Array.prototype.slice.call(parsed.body.childNodes);
        while (pane.firstChild) { pane.removeChild(pane.firstChild); }
        for (var i = 0; i < nodes.length; i++) { pane.appendChild(document.adoptNode(nodes[i])); }
        say("");
      })
      .catch(function () {
        if (mine === sent) { say("预览暂时无法更新，可以点“预览”按钮查看。"); }
      });
  }
  function schedule() {
    clearTimeout(timer);
    say("正在更新预览……");
    timer = setTimeout(refresh, 400);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", function (event) {
    if (event.target === typeSelect) { showParts(); }
    schedule();
  });
  showParts();
})();
