import { LabIcon } from '@jupyterlab/ui-components';

/**
 * Three stacked process bars with a status dot; `jp-icon3` makes the fill
 * follow the theme.
 */
const PROCESS_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="4" width="13" height="3" rx="1.5"/>
    <rect x="3" y="10.5" width="13" height="3" rx="1.5"/>
    <rect x="3" y="17" width="13" height="3" rx="1.5"/>
    <circle cx="19.5" cy="5.5" r="1.8"/>
    <circle cx="19.5" cy="12" r="1.8"/>
    <circle cx="19.5" cy="18.5" r="1.8"/>
  </g>
</svg>`;

/**
 * The syft_pm icon (`syft-pm:icon`).
 */
export const processIcon = new LabIcon({
  name: 'syft-pm:icon',
  svgstr: PROCESS_ICON_SVG
});
