import * as fs from 'fs';
import * as path from 'path';

/** A Plotly figure (data traces + layout), as plotly.js takes it. */
export interface Figure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
}

let plotlySource: string | null = null;
function plotlyJs(): string {
  if (plotlySource === null) {
    const file = path.join(path.dirname(require.resolve('plotly.js-basic-dist-min')), 'plotly-basic.min.js');
    plotlySource = fs.readFileSync(file, 'utf8');
  }
  return plotlySource;
}

let divCounter = 0;

/**
 * A self-contained HTML fragment rendering the figure: a div and a script. plotly.js (basic bundle, ~1 MB) is
 * inlined when `includePlotly` (once per notebook or page), otherwise the page's window.Plotly is used.
 */
export function figureHtml(fig: Figure, options: { includePlotly: boolean; width?: number; height?: number }): string {
  const id = `vii-plot-${process.pid}-${++divCounter}`;
  const layout = { width: options.width ?? 720, height: options.height ?? 400, ...fig.layout };
  const lib = options.includePlotly ? `<script type="text/javascript">${plotlyJs()}</script>` : '';
  return `${lib}<div id="${id}" class="vii-plot" style="width:${layout.width}px;height:${layout.height}px"></div>
<script type="text/javascript">(function(){var f=${JSON.stringify({ data: fig.data, layout })};
function draw(){window.Plotly.newPlot(${JSON.stringify(id)},f.data,f.layout,{displayModeBar:false});}
if(window.Plotly){draw();}else{var t=setInterval(function(){if(window.Plotly){clearInterval(t);draw();}},50);}})();</script>`;
}

/** A full HTML page with the figure (for export to PNG/PDF by a headless browser). */
export function figurePage(fig: Figure, width = 720, height = 400): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">${figureHtml(fig, { includePlotly: true, width, height })}</body></html>`;
}

/** Loss curves (total, recon, perceptual, KL per step) of one or more runs. */
export function lossCurves(runs: { name: string; history: { step: number; total: number; recon: number; perceptual: number; kl: number }[] }[], title = 'Training loss (per image)'): Figure {
  const data = runs.flatMap((r) =>
    (['total', 'recon', 'perceptual', 'kl'] as const).map((term) => ({
      type: 'scatter',
      mode: 'lines',
      name: runs.length > 1 ? `${r.name}: ${term}` : term,
      x: r.history.map((h) => h.step),
      y: r.history.map((h) => h[term]),
      yaxis: term === 'kl' ? 'y2' : 'y',
    })),
  );
  return {
    data,
    // The legend goes below the plot: at the right it covered the KL axis' labels.
    layout: { title: { text: title }, margin: { r: 70, b: 90 }, legend: { orientation: 'h', x: 0, y: -0.25 }, xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'loss' } }, yaxis2: { title: { text: 'KL' }, overlaying: 'y', side: 'right' } },
  };
}

/** A bar chart of one metric with mean ± std error bars per row. */
export function metricBars(rows: { name: string; mean: number; std: number }[], metric: string): Figure {
  return {
    data: [{ type: 'bar', x: rows.map((r) => r.name), y: rows.map((r) => r.mean), error_y: { type: 'data', array: rows.map((r) => r.std), visible: true } }],
    layout: { title: { text: metric }, yaxis: { title: { text: metric } }, margin: { b: 140 } },
  };
}

/** Mean masked L1 of the Gibbs iterate x'_t against the truth, per step t, one line per series. */
export function chainCurves(series: { name: string; values: number[] }[], title = 'Gibbs chain: masked L1 after each step (held-out faces)'): Figure {
  return {
    data: series.map((s) => ({ type: 'scatter', mode: 'lines+markers', name: s.name, x: s.values.map((_, i) => i + 1), y: s.values })),
    layout: { title: { text: title }, xaxis: { title: { text: 'Gibbs step t' }, dtick: 1 }, yaxis: { title: { text: 'masked L1 ↓' } } },
  };
}

/** A trade-off scatter: one labelled point per setting (e.g. λ_l) with its x and y metric. */
export function tradeOff(points: { name: string; x: number; y: number }[], axes: { x: string; y: string }, title: string): Figure {
  return {
    // Labels alternate above and below their points, and the axes leave room for them at the edges.
    data: [{ type: 'scatter', mode: 'markers+text', x: points.map((p) => p.x), y: points.map((p) => p.y), text: points.map((p) => p.name), textposition: points.map((_, i) => (i % 2 ? 'bottom center' : 'top center')), marker: { size: 10 }, cliponaxis: false }],
    layout: { title: { text: title }, xaxis: { title: { text: axes.x }, range: padded(points.map((p) => p.x), 0.15) }, yaxis: { title: { text: axes.y }, range: padded(points.map((p) => p.y), 0.12) }, margin: { t: 60, l: 70, r: 40 } },
  };
}

/** [min, max] widened by `share` of the span on both sides (a single value gets ±10 %). */
function padded(values: number[], share: number): [number, number] {
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const pad = (hi - lo || Math.abs(hi) * 0.1 || 1) * share;
  return [lo - pad, hi + pad];
}

/**
 * Reliability diagram: per σ (a model, method and kind), the share of true values within ±kσ
 * against a Gaussian's (erf(k/√2)) for each k; on the diagonal a σ is calibrated, below it too narrow.
 */
export function reliabilityCurves(series: { name: string; points: { expected: number; observed: number }[] }[], title = 'Reliability: coverage of ±0.5σ, ±1σ, ±2σ against a Gaussian\'s'): Figure {
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: 'calibrated', x: [0, 1], y: [0, 1], line: { dash: 'dot', color: '#888' } },
      ...series.map((s) => ({ type: 'scatter', mode: 'lines+markers', name: s.name, x: [0, ...s.points.map((p) => p.expected)], y: [0, ...s.points.map((p) => p.observed)] })),
    ],
    layout: { title: { text: title }, xaxis: { title: { text: 'Gaussian coverage' }, range: [0, 1] }, yaxis: { title: { text: 'observed coverage' }, range: [0, 1] } },
  };
}

/**
 * Sparsification: the mean |error| left as the most uncertain pixels are removed, per σ, and the
 * oracle's (the largest errors removed first), dashed in the same colour.
 */
export function sparsificationCurves(series: { name: string; fractions: number[]; model: number[]; oracle: number[] }[], title = 'Sparsification: mean |error| left after removing the most uncertain pixels'): Figure {
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  return {
    data: series.flatMap((s, i) => [
      { type: 'scatter', mode: 'lines', name: s.name, x: s.fractions, y: s.model, line: { color: colours[i % colours.length] } },
      { type: 'scatter', mode: 'lines', name: i === 0 ? 'oracle of each (dashed)' : `${s.name}: oracle`, x: s.fractions, y: s.oracle, line: { color: colours[i % colours.length], dash: 'dash' }, showlegend: i === 0 },
    ]),
    layout: { title: { text: title }, xaxis: { title: { text: 'fraction of hole pixels removed' } }, yaxis: { title: { text: 'mean |error| left ↓' } } },
  };
}
