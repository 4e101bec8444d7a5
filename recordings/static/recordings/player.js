/*
 * The admin's players: wires each <video>/<audio class="recordfile-player"> of the page by its data-format (the
 * file page has one, a cloud recording's page one per file); an error shows in the note "<player id>-error".
 * MP4, AAC and MP3 play natively; HLS through hls.js (or natively where the browser can, as Safari does);
 * FLV through mpegts.js. The vendor script a format needs is loaded before this one by the page.
 */
(function () {
  "use strict";

  function fail(el, message) {
    var note = document.getElementById(el.id + "-error");
    if (note) {
      note.textContent = message;
      note.hidden = false;
    }
    el.dataset.playerError = message;
  }

  function playHls(el, src) {
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls();
      hls.on(window.Hls.Events.ERROR, function (event, data) {
        if (data.fatal) {
          fail(el, "HLS: " + data.type + " " + data.details);
        }
      });
      hls.loadSource(src);
      hls.attachMedia(el);
      return "hls.js";
    }
    if (el.canPlayType("application/vnd.apple.mpegurl")) {
      el.src = src;
      return "native";
    }
    fail(el, "This browser cannot play HLS (no Media Source Extensions).");
    return null;
  }

  function playFlv(el, src) {
    if (window.mpegts && window.mpegts.getFeatureList().mseLivePlayback) {
      var player = window.mpegts.createPlayer({ type: "flv", url: src, isLive: false });
      player.on(window.mpegts.Events.ERROR, function (type, details) {
        fail(el, "FLV: " + type + " " + details);
      });
      player.attachMediaElement(el);
      player.load();
      return "mpegts.js";
    }
    fail(el, "This browser cannot play FLV (no Media Source Extensions).");
    return null;
  }

  function wire(el) {
    var src = el.dataset.src;
    var how;
    switch (el.dataset.format) {
      case "hls":
        how = playHls(el, src);
        break;
      case "flv":
        how = playFlv(el, src);
        break;
      default:
        el.src = src;
        how = "native";
    }
    if (how) {
      el.dataset.player = how;
    }
    el.addEventListener("error", function () {
      if (el.error) {
        fail(el, "Cannot play this file (media error " + el.error.code + ").");
      }
    });
  }

  function start() {
    document.querySelectorAll(".recordfile-player[data-src]").forEach(wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
