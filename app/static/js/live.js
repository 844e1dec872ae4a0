// Live updates: while the tab is visible, the page asks the server every few seconds whether
// its feed has posts newer than the newest one it shows and how many notifications are unread
// (one small JSON answer, a 304 when nothing changed). New posts wait behind a "Show 3 new
// posts" button, so nothing moves under the reader; pressing it puts their cards (the server's
// markup, the same as every card) in place, a page's worth at a time; a newest-first feed
// with more than that waiting opens its first page afresh instead. The badge follows the
// unread count by itself. A failed check waits twice as long before the next one, up to five
// minutes; the cursor only moves when posts are shown, so nothing published meanwhile is
// missed.
(() => {
  "use strict";

  const script = document.currentScript;
  const INTERVAL_MS = Number(script.dataset.intervalMs);
  const MAX_DELAY_MS = 5 * 60 * 1000;
  const MAX_COUNTED = 100; // the server counts no further (app/live/feeds.py)

  const region = document.querySelector(".live-updates[data-live-feed]");
  const notificationsLink = document.querySelector("a.notifications-link");
  if (!region && !notificationsLink) return; // a visitor on a page without a feed
  const atEnd = region?.classList.contains("live-updates-end"); // replies, oldest first

  let after = region?.dataset.liveAfter; // the newest post shown
  let waiting = { count: 0, more: false }; // new posts behind the button
  let delay = INTERVAL_MS;
  let timer = null;
  let checking = false;
  let checkAgain = false; // asked for while a check was on its way
  let stopped = false;
  let button = null;

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(check, ms);
  }

  async function check() {
    clearTimeout(timer); // when called early (the tab shown again, posts just shown)
    timer = null;
    if (checking) {
      checkAgain = true;
      return;
    }
    // A hidden tab asks nothing; it asks at once when it is shown again.
    if (stopped || document.visibilityState !== "visible") return;
    checking = true;
    const asked = after;
    try {
      const url = new URL(script.dataset.checkUrl, location.href);
      if (region) {
        url.searchParams.set("feed", region.dataset.liveFeed);
        url.searchParams.set("after", asked);
      }
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        cache: "no-cache", // revalidated with the ETag: an unchanged answer is a 304
      });
      if (response.status === 401) {
        stopped = true; // signed out meanwhile: the next page the reader opens says so
        return;
      }
      if (!response.ok) throw new Error(`live check: ${response.status}`, { cause: response });
      const state = await response.json();
      // Counted from a cursor the page has since moved past: the next check says.
      if ("new_posts" in state && asked === after) showNewPosts(state.new_posts, state.more);
      if ("unread_notifications" in state && notificationsLink) {
        showUnread(state.unread_notifications);
      }
      delay = INTERVAL_MS;
    } catch (error) {
      delay = Math.min(Math.max(delay * 2, retryAfterMs(error.cause)), MAX_DELAY_MS);
    } finally {
      checking = false;
      if (!stopped) schedule(checkAgain ? 0 : delay);
      checkAgain = false;
    }
  }

  function retryAfterMs(response) {
    const seconds = Number(response?.headers.get("Retry-After"));
    return Number.isFinite(seconds) ? seconds * 1000 : 0;
  }

  function showNewPosts(count, more) {
    waiting = { count, more };
    if (count === 0) {
      removeButton();
      return;
    }
    const number = more ? `${MAX_COUNTED}+` : String(count);
    const text = `Show ${number} new ${count === 1 && !more ? "post" : "posts"}`;
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-primary btn-sm rounded-pill";
      button.addEventListener("click", showPosts);
      region.append(button);
    }
    if (button.textContent !== text) button.textContent = text; // each change is announced once
  }

  function removeButton() {
    if (!button) return;
    // The reader who pressed it goes on from the nearest post rather than from nowhere.
    if (document.activeElement === button) {
      focusPost(atEnd ? region.previousElementSibling : region.nextElementSibling);
    }
    button.remove();
    button = null;
  }

  let showing = false;
  async function showPosts() {
    if (showing) return;
    if (!atEnd && (waiting.more || waiting.count > Number(region.dataset.liveBatch))) {
      location.assign(location.pathname); // more than a page: the feed's first page, afresh
      return;
    }
    showing = true;
    try {
      const url = new URL(script.dataset.postsUrl, location.href);
      url.searchParams.set("feed", region.dataset.liveFeed);
      url.searchParams.set("after", after);
      url.searchParams.set("return_to", location.pathname + location.search);
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`new posts: ${response.status}`);
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const cards = [...template.content.querySelectorAll("article.post")];
      if (cards.length > 0) insert(cards);
      else showNewPosts(0, false); // deleted meanwhile
    } catch (error) {
      console.error(error);
    } finally {
      showing = false;
    }
    check(); // how many are left, if more came than a page holds
  }

  function insert(cards) {
    const ids = cards.map((card) => Number(card.id.replace("post-", "")));
    after = String(Math.max(Number(after), ...ids));
    region.parentElement.querySelector(".feed-empty")?.remove();
    if (atEnd) region.before(...cards);
    else region.after(...cards);
    cards.forEach(renderTimes);
    countReplies(cards.length);
    // The reader goes on from the first post they have not seen, as from a new page.
    const first = cards[0];
    focusPost(first);
    showNewPosts(0, false);
    first.scrollIntoView({ block: atEnd ? "nearest" : "start" });
  }

  function focusPost(post) {
    if (!post?.matches("article.post")) return;
    post.tabIndex = -1;
    post.focus({ preventScroll: true });
  }

  function countReplies(added) {
    const heading = document.querySelector("#replies-heading[data-replies]");
    if (!heading || !atEnd) return;
    const replies = Number(heading.dataset.replies) + added;
    heading.dataset.replies = String(replies);
    heading.textContent = `${replies} ${replies === 1 ? "reply" : "replies"}`;
  }

  function showUnread(unread) {
    let badge = notificationsLink.querySelector(".notifications-badge");
    if (unread === 0) {
      if (badge) {
        badge.previousSibling.textContent = badge.previousSibling.textContent.trimEnd();
        badge.remove();
      }
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge rounded-pill text-bg-danger notifications-badge";
      notificationsLink.append(" ", badge);
    }
    if (badge.textContent !== `${unread} unread`) {
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " unread";
      badge.replaceChildren(String(unread), hidden);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && timer === null) check();
  });
  schedule(INTERVAL_MS);
})();
