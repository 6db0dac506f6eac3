/**
 * Small inline SVG icons of the sidebar's buttons. They paint with
 * `currentColor`, so they follow the theme through the button's `color`, and
 * need no icon registry (which keeps the views testable in happy-dom).
 */
const svg = (body: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false" fill="currentColor"><path d="${body}"/></svg>`;

/** Material Design icon paths (Apache-2.0), as JupyterLab's own icons use. */
export const ICONS = {
  stop: svg('M6 6h12v12H6z'),
  start: svg('M8 5v14l11-7z'),
  restart: svg(
    'M17.65 6.35A7.96 7.96 0 0 0 12 4c-4.42 0-7.99 3.58-7.99 8s3.57 8 7.99 8c3.73 0 6.84-2.55 7.73-6h-2.08A5.99 5.99 0 0 1 12 18c-3.31 0-6-2.69-6-6s2.69-6 6-6c1.66 0 3.14.69 4.22 1.78L13 11h7V4l-2.35 2.35z'
  ),
  remove: svg(
    'M6 19c0 1.1.9 2 2 2h8c1.1 0 2-.9 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z'
  ),
  logs: svg('M14 17H4v2h10v-2zm6-8H4v2h16V9zM4 15h16v-2H4v2zM4 5v2h16V5H4z'),
  copy: svg(
    'M16 1H4c-1.1 0-2 .9-2 2v14h2V3h12V1zm3 4H8c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h11c1.1 0 2-.9 2-2V7c0-1.1-.9-2-2-2zm0 16H8V7h11v14z'
  ),
  download: svg('M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z'),
  notebook: svg(
    'M18 2H6c-1.1 0-2 .9-2 2v16c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zM6 4h5v8l-2.5-1.5L6 12V4z'
  ),
  link: svg(
    'M19 19H5V5h7V3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14c1.1 0 2-.9 2-2v-7h-2v7zM14 3v2h3.59l-9.83 9.83 1.41 1.41L19 6.41V10h2V3h-7z'
  ),
  back: svg('M15.41 7.41 14 6l-6 6 6 6 1.41-1.41L10.83 12z'),
  bottom: svg('M16 13h-3V3h-2v10H8l4 4 4-4zM4 19v2h16v-2H4z')
} as const;

export type IconName = keyof typeof ICONS;

/**
 * A small icon button with a tooltip and an accessible label.
 */
export function iconButton(
  doc: Document,
  icon: IconName,
  label: string,
  className = ''
): HTMLButtonElement {
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = `syft-pm-icon-button ${className}`.trim();
  button.title = label;
  button.setAttribute('aria-label', label);
  button.innerHTML = ICONS[icon];
  return button;
}
