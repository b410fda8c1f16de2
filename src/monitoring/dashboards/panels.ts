import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  HeatmapCellLayout,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
  type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type DashboardLink,
  type DataTransformerConfig,
  type ThresholdsConfig,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  CellValuesBuilder,
  PanelBuilder as HeatmapBuilder,
  RowsHeatmapOptionsBuilder,
  YAxisConfigBuilder,
} from '@grafana/grafana-foundation-sdk/heatmap';
import { DataqueryBuilder, type PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/**
 * Panel helpers shared by the dashboards. Each panel is declared as a spec (title, description, unit, size,
 * queries) and built here with the SDK, so every panel gets the datasource variable, an id, refIds and a visible
 * legend the same way: the SDK leaves ids and refIds unset and hides timeseries legends by default.
 */

/** Every panel and query points at the datasource variable: never a uid that exists in one Grafana only. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, not a template literal
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Target {
  readonly expr: string;
  /** Names each series, in the legend and in stat panels. */
  readonly legend: string;
  readonly instant?: boolean;
  readonly format?: PromQueryFormat;
}

export interface Link {
  readonly title: string;
  readonly url: string;
}

export interface PanelSpec {
  readonly title: string;
  /** How to read the panel: shown on hover of the (i) icon. */
  readonly description: string;
  /** A Grafana unit id (`mps`, `percentunit`, `s`…). */
  readonly unit: string;
  /** Grid width (of 24) and height. */
  readonly w: number;
  readonly h: number;
  readonly targets: readonly Target[];
  readonly links?: readonly Link[];
  /** Shown instead of "No data", for panels that are empty by design under some selections. */
  readonly noValue?: string;
}

/** A threshold step: colour from `from` upwards (null: from minus infinity). */
export type Step = readonly [color: string, from: number | null];

/** Numbers the panels of one dashboard in build order, so ids stay put while the layout does. */
export class PanelIds {
  #next = 1;
  next(): number {
    return this.#next++;
  }
}

/** The builder methods every panel type of the SDK shares. */
interface AnyPanelBuilder<B> extends cog.Builder<unknown> {
  id(id: number): B;
  title(title: string): B;
  description(description: string): B;
  datasource(datasource: DataSourceRef): B;
  unit(unit: string): B;
  span(w: number): B;
  height(h: number): B;
  withTarget(target: cog.Builder<cog.Dataquery>): B;
  links(links: cog.Builder<DashboardLink>[]): B;
  noValue(noValue: string): B;
  thresholds(thresholds: cog.Builder<ThresholdsConfig>): B;
}

function query(target: Target, index: number): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .refId(String.fromCharCode(65 + index))
    .datasource(DATASOURCE)
    .expr(target.expr)
    .legendFormat(target.legend);
  if (target.format !== undefined) builder.format(target.format);
  return target.instant ? builder.instant() : builder.range();
}

export function thresholds(steps: readonly Step[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(steps.map(([color, value]) => ({ color, value })));
}

function base<B extends AnyPanelBuilder<B>>(builder: B, ids: PanelIds, spec: PanelSpec): B {
  builder
    .id(ids.next())
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.w)
    .height(spec.h);
  spec.targets.forEach((target, index) => builder.withTarget(query(target, index)));
  if (spec.links !== undefined)
    builder.links(spec.links.map((link) => new DashboardLinkBuilder(link.title).url(link.url).targetBlank(true)));
  if (spec.noValue !== undefined) builder.noValue(spec.noValue);
  return builder;
}

export interface TimeseriesSpec extends PanelSpec {
  readonly stack?: boolean;
  /** Draws the thresholds as lines: the SLO target, an alert's factor. */
  readonly thresholdLines?: readonly Step[];
  /** Fixed colours per series name, so "failed" is red on every panel. */
  readonly colors?: Readonly<Record<string, string>>;
  /** A table legend with mean and max, sorted by mean: the biggest cause on top. */
  readonly ranked?: boolean;
  readonly min?: number;
  /** Series whose name matches `match` (a regex) go on a right axis in `unit`: two quantities read against each other. */
  readonly rightAxis?: { readonly match: string; readonly unit: string };
}

export function timeseries(ids: PanelIds, spec: TimeseriesSpec): TimeseriesBuilder {
  const legend = new VizLegendOptionsBuilder().showLegend(true);
  if (spec.ranked)
    legend
      .displayMode(LegendDisplayMode.Table)
      .placement(LegendPlacement.Right)
      .calcs(['mean', 'max'])
      .sortBy('Mean')
      .sortDesc(true);
  else legend.displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom);
  const panel = base(new TimeseriesBuilder(), ids, spec)
    .legend(legend)
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .fillOpacity(spec.stack ? 60 : 10);
  if (spec.stack) panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.thresholdLines !== undefined) {
    panel
      .thresholds(thresholds(spec.thresholdLines))
      .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  }
  for (const [name, color] of Object.entries(spec.colors ?? {}))
    panel.overrideByName(name, [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }]);
  if (spec.rightAxis !== undefined) {
    panel.overrideByRegexp(spec.rightAxis.match, [
      { id: 'custom.axisPlacement', value: 'right' },
      { id: 'unit', value: spec.rightAxis.unit },
    ]);
  }
  return panel;
}

export interface StatSpec extends PanelSpec {
  readonly steps: readonly Step[];
  /** Colour the background, not only the number: for the few stats that must catch the eye. */
  readonly background?: boolean;
}

export function stat(ids: PanelIds, spec: StatSpec): StatBuilder {
  return (
    base(new StatBuilder(), ids, spec)
      .thresholds(thresholds(spec.steps))
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
      .graphMode(BigValueGraphMode.Area)
      .colorMode(spec.background ? BigValueColorMode.Background : BigValueColorMode.Value)
      // The series name is the legend of a stat: with several series each value is labelled.
      .textMode(BigValueTextMode.ValueAndName)
  );
}

export interface TableSpec extends PanelSpec {
  readonly transformations: readonly DataTransformerConfig[];
}

export function table(ids: PanelIds, spec: TableSpec): TableBuilder {
  const panel = base(new TableBuilder(), ids, spec).thresholds(thresholds([['text', null]]));
  for (const transformation of spec.transformations) panel.withTransformation(transformation);
  return panel;
}

export interface HeatmapSpec extends PanelSpec {
  /** Unit of the y axis (the histogram's bucket bounds); `unit` is the cells'. */
  readonly yUnit: string;
}

export function heatmap(ids: PanelIds, spec: HeatmapSpec): HeatmapBuilder {
  return base(new HeatmapBuilder(), ids, spec)
    .thresholds(thresholds([['green', null]]))
    .calculate(false)
    .rowsFrame(new RowsHeatmapOptionsBuilder().layout(HeatmapCellLayout.Le))
    .yAxis(new YAxisConfigBuilder().unit(spec.yUnit))
    .cellValues(new CellValuesBuilder().unit(spec.unit))
    .showLegend();
}
