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
