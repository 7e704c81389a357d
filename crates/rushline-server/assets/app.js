// The storefront's one script, an enhancement: every page works without it.
// It tells the server the viewer's time zone (a cookie read on the next page), counts down to
// each [data-countdown] in place, and follows a waiting buyer's place in line over the
// [data-events] stream, reloading the page (with its buy form) once they are admitted.
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
  var place = document.querySelector("[data-events]");
  if (place && window.EventSource) {
    var events = new EventSource(place.getAttribute("data-events"));
    events.addEventListener("status", function (message) {
      var ticket = JSON.parse(message.data);
      if (ticket.state === "admitted") {
        events.close();
        window.location.reload();
        return;
      }
      var position = place.querySelector("[data-position]");
      if (position && ticket.position !== null) position.textContent = String(ticket.position);
    });
    events.addEventListener("error", function () { events.close(); });
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
