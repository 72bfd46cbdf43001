/// <reference lib="dom" />
/** Time-series charts with uPlot; events are drawn as labelled vertical lines. */
import uPlot from 'uplot';
import type { SeriesMap } from './api.js';
import { h } from './dom.js';

export interface Marker {
  readonly time: number;
  readonly label: string;
}

const COLOURS = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#5c940d'];

function markersPlugin(markers: readonly Marker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          ctx.strokeStyle = '#c92a2a';
          ctx.fillStyle = '#c92a2a';
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.font = `${12 * devicePixelRatio}px sans-serif`;
          for (const m of markers) {
            const x = Math.round(u.valToPos(m.time / 1000, 'x', true));
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(m.label, x + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** One chart per signal (signals have their own sample times), sharing the time axis range. */
export function seriesCharts(
  series: SeriesMap,
  names: readonly string[],
  markers: readonly Marker[],
  width: number,
): HTMLElement {
  const box = h('div', { class: 'charts' });
  const present = names.filter((n) => (series[n]?.t.length ?? 0) > 0);
  if (present.length === 0) {
    box.append(h('p', { class: 'muted' }, 'No samples for these signals.'));
    return box;
  }
  present.forEach((name, i) => {
    const s = series[name]!;
    const holder = h('figure', { class: 'chart', 'data-signal': name });
    holder.append(h('figcaption', {}, `${name} [${s.unit}]`));
    box.append(holder);
    const data: uPlot.AlignedData = [s.t.map((t) => t / 1000), [...s.v]];
    new uPlot(
      {
        width,
        height: 200,
        legend: { show: false },
        scales: { x: { time: true } },
        series: [{}, { label: name, stroke: COLOURS[i % COLOURS.length], width: 1.5 }],
        axes: [{}, { label: s.unit, size: 60 }],
        plugins: [markersPlugin(markers)],
      },
      data,
      holder,
    );
  });
  return box;
}
