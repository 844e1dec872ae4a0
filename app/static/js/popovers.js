// Hover cards: a Bootstrap popover with the user's card for every `a.user_popup` link.
// Opened by hovering (after a short delay) or keyboard focus; closed by leaving, blur or Escape.
// Each card is fetched once per page and goes through Bootstrap's sanitizer like any string.
(() => {
  "use strict";

  const SHOW_DELAY_MS = 400;
  const HIDE_DELAY_MS = 200;

  const cards = new Map(); // popup URL -> Promise of the card's HTML
  const wanted = new WeakMap(); // link -> whether the reader still points at or focuses it
  const timers = new WeakMap(); // link -> pending show or hide timer

  // Flask-Moment's markup needs <time> and its data attributes through the sanitizer.
  const allowList = {
    ...bootstrap.Popover.Default.allowList,
    time: ["datetime", "title", /^data-(timestamp|function|format|refresh)$/],
  };

  function fetchCard(url) {
    if (!cards.has(url)) {
      const card = fetch(url, { headers: { Accept: "text/html" } }).then((response) => {
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        return response.text();
      });
      card.catch(() => cards.delete(url)); // a failed fetch is tried again on the next hover
      cards.set(url, card);
    }
    return cards.get(url);
  }

  function renderTimes(root) {
    // Without moment.js the server's UTC text stays, which is what the reader then sees.
    if (typeof moment !== "function" || typeof flask_moment_render !== "function") return;
    root.querySelectorAll(".flask-moment").forEach(flask_moment_render);
  }

  function tipOf(link) {
    const id = link.getAttribute("aria-describedby");
    return id ? document.getElementById(id) : null;
  }

  function later(link, action, delay) {
    clearTimeout(timers.get(link));
    timers.set(link, setTimeout(action, delay));
  }

  function popoverFor(link, html) {
    const existing = bootstrap.Popover.getInstance(link);
    if (existing) return existing;
    link.addEventListener("inserted.bs.popover", () => {
      const tip = tipOf(link);
      renderTimes(tip);
      tip.addEventListener("mouseenter", () => clearTimeout(timers.get(link)));
      tip.addEventListener("mouseleave", () => leave(link));
    });
    return new bootstrap.Popover(link, {
      content: html,
      html: true,
      sanitize: true,
      allowList,
      trigger: "manual",
      placement: "bottom",
      fallbackPlacements: ["top", "right", "left"],
      customClass: "user-popover",
    });
  }

  async function show(link) {
    let html;
    try {
      html = await fetchCard(link.dataset.popupUrl);
    } catch {
      return; // no card is better than a broken one; the link still leads to the profile
    }
    if (wanted.get(link)) popoverFor(link, html).show();
  }

  function hide(link) {
    wanted.set(link, false);
    clearTimeout(timers.get(link));
    bootstrap.Popover.getInstance(link)?.hide();
  }

  function enter(link, delay) {
    wanted.set(link, true);
    later(link, () => show(link), delay);
  }

  function leave(link) {
    wanted.set(link, false);
    later(link, () => hide(link), HIDE_DELAY_MS);
  }

  document.querySelectorAll("a.user_popup[data-popup-url]").forEach((link) => {
    link.addEventListener("mouseenter", () => enter(link, SHOW_DELAY_MS));
    link.addEventListener("mouseleave", () => leave(link));
    link.addEventListener("focus", () => enter(link, 0));
    link.addEventListener("blur", () => hide(link));
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("a.user_popup[aria-describedby]").forEach(hide);
  });
})();
