// Adds "Present this chapter" and "PDF" to each chapter page: links to the chapter's reveal.js
// deck and to its PDF (one page per slide), built by scripts/build_slides.py into slides/.
document.addEventListener("DOMContentLoaded", function () {
  var match = window.location.pathname.match(/\/book\/(\d\d[a-z]?_[\w-]+|presentation)\.html$/);
  if (!match) return;
  var article = document.querySelector("article.bd-article") || document.querySelector("main");
  if (!article) return;
  var pdf = document.createElement("a");
  pdf.href = "../slides/" + match[1] + ".pdf";
  pdf.className = "pdf-link";
  pdf.textContent = "\u2B73 Slides as PDF";
  pdf.title = "The same slides as a PDF, one page per slide: to hand in, print, or show from any computer";
  var link = document.createElement("a");
  link.href = "../slides/" + match[1] + ".slides.html";
  link.className = "present-link";
  link.textContent = "\u25B6 Present this chapter";
  link.title = "Open the slides: F for full screen, S for speaker notes, arrows to move";
  article.insertBefore(pdf, article.firstChild);
  article.insertBefore(link, article.firstChild);
});
