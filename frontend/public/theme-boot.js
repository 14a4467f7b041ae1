// Applies the member's stored theme (src/components/theme.ts) before the app's code arrives, so a page
// that loads in the other scheme never flashes. A plain, blocking script: it runs before the first paint.
try {
  var choice = localStorage.getItem("haruchat.theme");
  if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
} catch (e) {
  // No storage (a locked-down browser): the system's scheme applies, as with no choice.
}
