// Local time: the server renders every <time> in the zone of the sls_tz
// cookie, or in UTC (named) when it does not know the browser's zone yet.
// This script tells it the zone for the next pages (the cookie), renders
// the times of this page in the browser's zone when the server could not,
// and keeps "in 2 minutes" current. Without JavaScript the pages keep
// their UTC times.
(function () {
  "use strict";
  var tz;
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!tz || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(tz)) { return; }
  var https = window.location.protocol === "https:";
  // The portal's cookies carry the __Host- prefix over HTTPS.
  var name = (https ? "__Host-" : "") + "sls_tz";
  if (document.cookie.split("; ").indexOf(name + "=" + tz) < 0) {
    document.cookie = name + "=" + tz + "; Path=/; Max-Age=31536000; SameSite=Strict" + (https ? "; Secure" : "");
  }
  var lang = document.documentElement.lang || undefined;
  var loaded = Date.now();
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  function absolute(d, clock) {
    var o = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz, timeZoneName: "short" };
    if (!clock) { o.year = "numeric"; o.month = "short"; o.day = "numeric"; }
    return new Intl.DateTimeFormat(lang, o).format(d);
  }
  function relative(ms) {
    var s = Math.round(ms / 1000), a = Math.abs(s);
    if (a < 60) { return rtf.format(0, "minute"); }
    if (a < 3600) { return rtf.format(Math.round(s / 60), "minute"); }
    if (a < 86400) { return rtf.format(Math.round(s / 3600), "hour"); }
    return "";
  }
  function render() {
    var els = document.querySelectorAll("time[datetime][data-tz]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) { continue; }
      if (el.getAttribute("data-tz") !== tz && el.firstChild && el.firstChild.nodeType === 3) {
        el.firstChild.nodeValue = absolute(d, el.getAttribute("data-format") === "clock");
        el.setAttribute("data-tz", tz);
      }
      var rel = el.querySelector(".rel");
      var now = new Date(el.getAttribute("data-now"));
      if (rel && rtf && !isNaN(now.getTime())) {
        // The server's clock, moved on by the time spent on the page: a
        // wrong clock on this computer does not change the countdown.
        var r = relative(d.getTime() - now.getTime() - (Date.now() - loaded));
        var wrap = rel.getAttribute("data-wrap") || "(%s)";
        rel.textContent = r ? wrap.replace("%s", r) : "";
      }
    }
  }
  render();
  window.setInterval(render, 30000);
})();
