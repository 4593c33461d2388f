// A little progressive enhancement: filters apply on change, "/" focuses the query box.
document.addEventListener("DOMContentLoaded", () => {
  const feed = document.getElementById("feed-form");
  if (feed) {
    feed.querySelectorAll(".filters select, .filters input[type=checkbox]").forEach((el) =>
      el.addEventListener("change", () => feed.submit()));
  }
  document.addEventListener("keydown", (e) => {
    const q = document.getElementById("q");
    if (e.key === "/" && q && document.activeElement !== q) { e.preventDefault(); q.focus(); }
  });
});
