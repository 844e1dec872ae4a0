// Hover cards: a Bootstrap popover with the user's card for every `a.user_popup` link.
// Opened by hovering (after a short delay) or keyboard focus; closed by leaving, by focus moving
// elsewhere, or by Escape. The card follows its link in the document, so Tab reaches its links
// and its Follow button.
// Each card is fetched once per page and goes through Bootstrap's sanitizer like any string.
// The browser keeps it (private, no-cache) and asks again with its ETag on later pages: an
// unchanged card then comes back as a 304, not rendered again (see the popup view).
// Its Follow button works in place: the card and every follower count on the page follow.
(() => {
  "use strict";

  const SHOW_DELAY_MS = 400;
  const HIDE_DELAY_MS = 200;

  const cards = new Map(); // popup URL -> Promise of the card's HTML
  const cardHtml = new Map(); // popup URL -> the card's HTML once fetched
  const wanted = new WeakMap(); // link -> whether the reader still points at or focuses it
  const timers = new WeakMap(); // link -> pending show or hide timer

  // Flask-Moment's markup and the Follow button need their attributes through the sanitizer.
  // The button's form keeps no attribute (the sanitizer removes an element it does not know,
  // children and all), so the button's click is handled here.
  const allowList = {
    ...bootstrap.Popover.Default.allowList,
    time: ["datetime", "title", /^data-(timestamp|function|format|refresh)$/],
    form: [],
    button: ["type", "aria-disabled", /^data-(user-id|following|follow-url|unfollow-url)$/],
  };
  const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content;

  function fetchCard(url) {
    if (!cards.has(url)) {
      const card = fetch(url, { headers: { Accept: "text/html" } }).then((response) => {
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        return response.text();
      });
      card.then((html) => cardHtml.set(url, html));
      card.catch(() => cards.delete(url)); // a failed fetch is tried again on the next hover
      cards.set(url, card);
    }
    return cards.get(url);
  }

  function tipOf(link) {
    const id = link.getAttribute("aria-describedby");
    return id ? document.getElementById(id) : null;
  }

  function later(link, action, delay) {
    clearTimeout(timers.get(link));
    timers.set(link, setTimeout(action, delay));
  }

  function popoverFor(link) {
    const existing = bootstrap.Popover.getInstance(link);
    if (existing) return existing;
    link.addEventListener("inserted.bs.popover", () => {
      const tip = tipOf(link);
      renderTimes(tip);
      tip.addEventListener("mouseenter", () => clearTimeout(timers.get(link)));
      tip.addEventListener("mouseleave", () => leave(link));
      tip.addEventListener("focusout", (event) => {
        if (!tip.contains(event.relatedTarget) && event.relatedTarget !== link) hide(link);
      });
    });
    return new bootstrap.Popover(link, {
      content: () => cardHtml.get(link.dataset.popupUrl), // read at each opening
      html: true,
      sanitize: true,
      allowList,
      trigger: "manual",
      placement: "bottom",
      fallbackPlacements: ["top", "right", "left"],
      customClass: "user-popover",
      container: link.parentElement,
    });
  }

  async function show(link) {
    try {
      await fetchCard(link.dataset.popupUrl);
    } catch {
      return; // no card is better than a broken one; the link still leads to the profile
    }
    if (wanted.get(link)) popoverFor(link).show();
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

  // Listened for on the document, so links in posts put on the page later (live.js) work too.
  // Not links inside a card: a card does not open another.
  function popupLink(node) {
    const link = node instanceof Element ? node.closest("a.user_popup[data-popup-url]") : null;
    return link && !link.closest(".popover") ? link : null;
  }

  document.addEventListener("mouseover", (event) => {
    const link = popupLink(event.target);
    if (link && !link.contains(event.relatedTarget)) enter(link, SHOW_DELAY_MS);
  });
  document.addEventListener("mouseout", (event) => {
    const link = popupLink(event.target);
    if (link && !link.contains(event.relatedTarget)) leave(link);
  });
  document.addEventListener("focusin", (event) => {
    const link = popupLink(event.target);
    if (link) enter(link, 0);
  });
  document.addEventListener("focusout", (event) => {
    const link = popupLink(event.target);
    if (link && !tipOf(link)?.contains(event.relatedTarget)) hide(link);
  });

  // Every Follow button and follower count of that user on the page tells the new state.
  function showFollowing(userId, following, followers) {
    document.querySelectorAll(`button.follow-toggle[data-user-id="${userId}"]`).forEach((button) => {
      button.dataset.following = String(following);
      button.textContent = following ? "Unfollow" : "Follow";
      button.classList.toggle("btn-primary", !following);
      button.classList.toggle("btn-outline-secondary", following);
      const form = button.closest("form[action]");
      if (form) form.action = following ? button.dataset.unfollowUrl : button.dataset.followUrl;
    });
    document.querySelectorAll(`.followers-of-${userId}`).forEach((count) => {
      count.textContent = followers;
    });
    document.querySelectorAll(`.followers-label-of-${userId}`).forEach((label) => {
      label.textContent = followers === 1 ? "follower" : "followers";
    });
  }

  async function toggleFollow(button) {
    // Busy, not disabled: disabling the focused button would move the focus out of the card
    // and close it under a keyboard user.
    if (button.getAttribute("aria-disabled") === "true") return;
    const following = button.dataset.following === "true";
    button.setAttribute("aria-disabled", "true");
    try {
      const response = await fetch(following ? button.dataset.unfollowUrl : button.dataset.followUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
      });
      if (!response.ok) {
        // A refusal the user can act on (an address still to confirm) comes with a message.
        const problem = await response.json().catch(() => null);
        if (problem && problem.error) showProblem(button, problem.error);
        throw new Error(`follow: ${response.status}`);
      }
      const state = await response.json();
      showFollowing(button.dataset.userId, state.following, state.followers);
    } catch (error) {
      console.error(error);
    } finally {
      button.removeAttribute("aria-disabled");
    }
    forgetCardsOf(button.dataset.userId);
  }

  function showProblem(button, message) {
    let note = button.parentElement.querySelector(".follow-problem");
    if (!note) {
      note = document.createElement("p");
      note.className = "follow-problem small text-danger mt-2 mb-0";
      note.setAttribute("role", "alert");
      button.insertAdjacentElement("afterend", note);
    }
    note.textContent = message;
  }

  // A card that shows that user's follow state is out of date: fetch it afresh next time.
  function forgetCardsOf(userId) {
    for (const [url, html] of cardHtml) {
      if (html.includes(`data-user-id="${userId}"`)) {
        cardHtml.delete(url);
        cards.delete(url);
      }
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".popover button.follow-toggle");
    if (!button) return;
    event.preventDefault(); // the stripped form around it would otherwise reload the page
    toggleFollow(button);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("a.user_popup[aria-describedby]").forEach((link) => {
      const focusWasInCard = tipOf(link)?.contains(document.activeElement);
      hide(link);
      if (focusWasInCard) {
        link.focus(); // back where the reader came from, without opening the card again
        hide(link);
      }
    });
  });
})();
