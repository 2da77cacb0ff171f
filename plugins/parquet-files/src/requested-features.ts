/**
 * Grouping `view:feature` refs by view, as Feast's `_get_requested_feature_views_to_features_dict`
 * does: a ref names a view by its projection's name_to_use() (`name`, `alias`, `name@vN`), views
 * come out in the order they are first mentioned, features in ref order.
 */
import { InvalidArgumentError, nameToUse, type FeatureView } from '@larder/core';

export interface RequestedView {
  readonly view: FeatureView;
  readonly features: string[];
}

export function requestedFeaturesByView(views: readonly FeatureView[], refs: readonly string[]): RequestedView[] {
  const byName = new Map<string, RequestedView>();
  const ordered: RequestedView[] = [];
  for (const ref of refs) {
    const colon = ref.indexOf(':');
    if (colon < 0) throw new InvalidArgumentError(`Feature reference "${ref}" is not of the form view:feature`);
    const viewPart = ref.slice(0, colon).replace(/@latest$/, '');
    const feature = ref.slice(colon + 1);
    const view = views.find((v) => nameToUse(v.projection) === viewPart);
    if (!view) throw new InvalidArgumentError(`Could not find feature view from reference ${ref}`);
    const key = nameToUse(view.projection);
    let entry = byName.get(key);
    if (!entry) {
      entry = { view, features: [] };
      byName.set(key, entry);
      ordered.push(entry);
    }
    if (!entry.features.includes(feature)) entry.features.push(feature);
  }
  return ordered;
}
