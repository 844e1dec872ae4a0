// The delete confirmation: one modal per page, pointed at the post whose Delete was pressed.
(() => {
  "use strict";
  const modal = document.getElementById("delete-post-modal");
  if (!modal) return;
  modal.addEventListener("show.bs.modal", (event) => {
    modal.querySelector("form").action = event.relatedTarget.dataset.deleteUrl;
  });
  // Bootstrap removes the role on closing; without it the dialog's aria-labelledby names nothing.
  modal.addEventListener("hidden.bs.modal", () => modal.setAttribute("role", "dialog"));
})();

// Like buttons work in place: the form is sent with fetch() and the button, its mark and the
// post's like count follow the answer. Without JavaScript, or when fetch() fails, the form is
// sent as it is and the page comes back.
(() => {
  "use strict";
  // Forms whose answer is awaited. Not `disabled`: a disabled button drops the keyboard focus.
  const sending = new WeakSet();
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches(".like-form")) return;
    event.preventDefault();
    if (sending.has(form)) return; // the previous press is still on its way
    sending.add(form);
    const button = form.querySelector(".like-toggle");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrf_token.value },
      });
      if (!response.ok) throw new Error(`${form.action}: ${response.status}`);
      const { liked, likes } = await response.json();
      button.setAttribute("aria-pressed", liked ? "true" : "false");
      button.querySelector(".like-mark").textContent = liked ? "♥" : "♡";
      form.action = liked ? button.dataset.unlikeUrl : button.dataset.likeUrl;
      const count = form.closest(".post-actions").querySelector(".likes-count");
      count.textContent = `${likes} ${likes === 1 ? "like" : "likes"}`;
    } catch {
      form.submit(); // the page answers instead
    } finally {
      sending.delete(form);
    }
  });
})();
