// IB Key push wait: ask the server whether the notification was answered
// and move on by itself. Without JavaScript the page shows a Continue
// button that does the same.
(function () {
  "use strict";
  var form = document.getElementById("push-continue");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf]").value;
  var status = document.getElementById("push-status");
  var failures = 0;
  function wait() {
    var body = new URLSearchParams();
    body.set("csrf", token);
    fetch("/login/wait", { method: "POST", body: body, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.json(); })
      .then(function (a) {
        failures = 0;
        if (a.push === "approved") {
          if (status) { status.textContent = status.getAttribute("data-approved"); }
          form.submit();
        } else if (a.changed) {
          window.location.reload();
        } else {
          wait();
        }
      })
      .catch(function () {
        failures++;
        if (failures > 5) { window.location.reload(); return; }
        window.setTimeout(wait, 1000 * failures);
      });
  }
  wait();
})();
