// The storefront's one script, an enhancement: every page works without it.
// It tells the server the viewer's time zone (a cookie read on the next page), and counts
// down to each <time data-countdown> in place.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
    document.cookie = "tz=" + encodeURIComponent(zone) + "; Path=/; Max-Age=31536000; SameSite=Lax";
  }
  function left(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var seconds = Math.max(0, Math.floor(ms / 1000) % 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor(minutes / 60) % 24;
    if (days > 0) return days + "d " + hours + "h";
    if (hours > 0) return hours + "h " + (minutes % 60) + "m";
    return (minutes % 60) + "m " + seconds + "s";
  }
  var clocks = document.querySelectorAll("[data-countdown]");
  if (clocks.length === 0) return;
  function tick() {
    var now = Date.now();
    clocks.forEach(function (el) {
      el.textContent = left(Date.parse(el.getAttribute("data-countdown")) - now);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
