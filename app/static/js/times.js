// Times in markup a script puts on the page after it loaded (hover cards, new posts): drawn
// by Flask-Moment's glue as the page's own are, and redrawn every minute where they ask to
// be, until they leave the page. Without moment.js the server's UTC text stays, which is what
// the reader then sees everywhere.
window.renderTimes = (root) => {
  "use strict";
  if (typeof moment !== "function" || typeof flask_moment_render !== "function") return;
  root.querySelectorAll(".flask-moment").forEach((time) => {
    flask_moment_render(time);
    const refresh = Number(time.dataset.refresh);
    if (refresh > 0) {
      const timer = setInterval(() => {
        if (time.isConnected) flask_moment_render(time);
        else clearInterval(timer);
      }, refresh);
    }
  });
};
