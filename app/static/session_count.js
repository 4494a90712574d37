// The projector view of a check-in code keeps its count of check-ins current: every few
// seconds it asks the server for the count (a small JSON answer) and shows it. When the code
// changes (a new code, stopped, expired, the class cancelled) the page reloads to show that.
// Without JavaScript the page shows the count as it was when loaded.
(function () {
  var root = document.querySelector("[data-count-url]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-count-url");
  var state = root.getAttribute("data-state");
  var seconds = parseInt(root.getAttribute("data-poll-seconds"), 10) || 4;
  var present = root.querySelector('[data-count="present"]');
  var enrolled = root.querySelector('[data-count="enrolled"]');
  var stopped = false;

  function show(data) {
    if (typeof data.present === "number" && present) present.textContent = String(data.present);
    if (typeof data.enrolled === "number" && enrolled) enrolled.textContent = String(data.enrolled);
    if (data.state && data.state !== state) {
      stopped = true;
      window.location.reload();
    }
  }

  function poll() {
    if (stopped) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          stopped = true; // signed out or no longer allowed: the page stays as it is
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data) show(data);
      })
      .catch(function () {
        // The network dropped for a moment: try again at the next tick.
      })
      .then(function () {
        if (!stopped) window.setTimeout(poll, seconds * 1000);
      });
  }

  window.setTimeout(poll, seconds * 1000);
})();
