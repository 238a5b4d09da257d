// Adds "Present this chapter" to each chapter page: a link to the chapter's reveal.js deck,
// built by scripts/build_slides.py into slides/ beside the book.
document.addEventListener("DOMContentLoaded", function () {
  var match = window.location.pathname.match(/\/book\/(\d\d_[\w-]+|presentation)\.html$/);
  if (!match) return;
  var article = document.querySelector("article.bd-article") || document.querySelector("main");
  if (!article) return;
  var link = document.createElement("a");
  link.href = "../slides/" + match[1] + ".slides.html";
  link.className = "present-link";
  link.textContent = "\u25B6 Present this chapter";
  link.title = "Open the slides: F for full screen, S for speaker notes, arrows to move";
  article.insertBefore(link, article.firstChild);
});
