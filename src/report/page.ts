/** Pieces the HTML pages of concept-lens share: the document head, the player and its buttons. */
import { esc, jsonForScript } from './escape.ts';
import { PLAYER_SCRIPT } from './player.ts';

/** The page up to `<body>`: doctype, charset, viewport, an empty icon, the title and the styles. */
export function pageHead(title: string, css: string): string[] {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // An empty icon, so the browser does not ask the file system or network for favicon.ico.
    '<link rel="icon" href="data:,">',
    `<title>${esc(title)}</title>`,
    `<style>${css}</style></head><body>`,
  ];
}

/** The button that plays excerpt `id` (its notes are in the page's cl-notes data). */
export function playButton(id: string): string {
  return `<button type="button" class="play" data-excerpt="${id}" aria-pressed="false">▶ Play</button>`;
}

/** The excerpts' notes as page data (id to notes) and the player script that plays them. */
export function playerScripts(playable: unknown): string[] {
  return [
    `<script type="application/json" id="cl-notes">${jsonForScript(playable)}</script>`,
    `<script>${PLAYER_SCRIPT}</script>`,
  ];
}

/**
 * An error about a file of the run's output folder, as a page says it: the file named by its path
 * inside the run (`excerpts/x.mid`), never by where the run was staged on this machine.
 */
export function outputFileMessage(err: Error, absolute: string, rel: string): string {
  return err.message.split(absolute).join(rel);
}
