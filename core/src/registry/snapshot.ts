/**
 * Lookups over one decoded registry, with the semantics of Feast's file registry
 * (proto_registry_utils) and of the offline server's `get_feature_view_by_name` (spec §3).
 *
 * Every getter matches `name` and `project` exactly and returns the first match in registry
 * order; the indexes below keep the first occurrence of each (project, name) pair, which is the
 * same thing as Feast's linear scan. The decoded objects are frozen; lookups that change a view
 * (projection, remove_dummies) return a new frozen object.
 */
import {
  DataSourceObjectNotFoundException,
  FeatureServiceNotFoundException,
  FeatureViewNotFoundException,
  InvalidArgumentError,
} from '../errors.ts';
import type { DecodedRegistry, ProjectInfo } from './decode.ts';
import {
  DUMMY_ENTITY_NAME,
  type DataSource,
  type Entity,
  type FeatureService,
  type FeatureView,
  type FeatureViewProjection,
  type Field,
  type OnDemandFeatureView,
  type Permission,
  type RegistrySnapshot,
} from './model.ts';

/** First occurrence of each (project, name), so a Map lookup equals Feast's first-match scan. */
class FirstMatchIndex<T> {
  private readonly byProject = new Map<string, Map<string, T>>();

  constructor(items: readonly T[], key: (item: T) => { name: string; project: string }) {
    for (const item of items) {
      const { name, project } = key(item);
      let names = this.byProject.get(project);
      if (!names) this.byProject.set(project, (names = new Map()));
      if (!names.has(name)) names.set(name, item);
    }
  }

  get(name: string, project: string): T | undefined {
    return this.byProject.get(project)?.get(name);
  }
}

function inProject<T extends { readonly project: string }>(items: readonly T[], project: string): readonly T[] {
  return items.filter((item) => item.project === project);
}

export class DecodedRegistrySnapshot implements RegistrySnapshot {
  private readonly featureViews: FirstMatchIndex<FeatureView>;
  private readonly streamFeatureViews: FirstMatchIndex<FeatureView>;
  private readonly dataSources: FirstMatchIndex<DataSource>;
  private readonly featureServices: FirstMatchIndex<FeatureService>;

  constructor(readonly registry: DecodedRegistry) {
    const byName = (o: { name: string; project: string }) => o;
    this.featureViews = new FirstMatchIndex(registry.featureViews, byName);
    this.streamFeatureViews = new FirstMatchIndex(registry.streamFeatureViews, byName);
    this.dataSources = new FirstMatchIndex(registry.dataSources, byName);
    this.featureServices = new FirstMatchIndex(registry.featureServices, byName);
  }

  /** UUID of the registry write this snapshot was read from. */
  get versionId(): string {
    return this.registry.versionId;
  }

  get lastUpdated(): Date | null {
    return this.registry.lastUpdated;
  }

  getFeatureView(name: string, project: string): FeatureView {
    const view = this.featureViews.get(name, project);
    if (!view) throw new FeatureViewNotFoundException(name, project);
    return view;
  }

  getStreamFeatureView(name: string, project: string): FeatureView {
    const view = this.streamFeatureViews.get(name, project);
    if (!view) throw new FeatureViewNotFoundException(name, project);
    return view;
  }

  getFeatureViewByName(name: string, alias: string | null, project: string): FeatureView {
    let view = this.featureViews.get(name, project);
    if (view) {
      // Python compares every projection of every feature service of the project and never
      // stops early: the last projection with this alias wins. A stored "" alias is None, so
      // an alias of "" never matches; a null alias means "no projection".
      if (alias !== null) {
        for (const service of this.listFeatureServices(project)) {
          for (const projection of service.projections) {
            if (projection.nameAlias === alias) view = withProjection(view, projection);
          }
        }
      }
    } else {
      // Stream views are returned as stored: no alias handling on this path.
      view = this.getStreamFeatureView(name, project);
    }
    return removeDummies(view);
  }

  getDataSource(name: string, project: string): DataSource {
    const source = this.dataSources.get(name, project);
    if (!source) throw new DataSourceObjectNotFoundException(name, project);
    return source;
  }

  getFeatureService(name: string, project: string): FeatureService {
    const service = this.featureServices.get(name, project);
    if (!service) throw new FeatureServiceNotFoundException(name, project);
    return service;
  }

  listFeatureServices(project: string): readonly FeatureService[] {
    return inProject(this.registry.featureServices, project);
  }

  listOnDemandFeatureViews(project: string): readonly OnDemandFeatureView[] {
    return inProject(this.registry.onDemandFeatureViews, project);
  }

  listPermissions(project: string): readonly Permission[] {
    return inProject(this.registry.permissions, project);
  }

  listEntities(project: string): readonly Entity[] {
    return inProject(this.registry.entities, project);
  }

  /** `feature_views` of the project, with their default projections and dummies intact. */
  listFeatureViews(project: string): readonly FeatureView[] {
    return inProject(this.registry.featureViews, project);
  }

  listStreamFeatureViews(project: string): readonly FeatureView[] {
    return inProject(this.registry.streamFeatureViews, project);
  }

  listDataSources(project: string): readonly DataSource[] {
    return inProject(this.registry.dataSources, project);
  }

  listProjects(): readonly ProjectInfo[] {
    return this.registry.projects;
  }
}

/**
 * `BaseFeatureView.with_projection`: the projection must be for this view and may only hold
 * features the view has. Python raises a plain ValueError (not a FeastError), so the client sees a
 * generic error with this text.
 */
export function withProjection(view: FeatureView, projection: FeatureViewProjection): FeatureView {
  if (projection.name !== view.name) {
    throw new InvalidArgumentError(
      `The projection for the ${view.name} FeatureView cannot be applied because it differs in name. ` +
        `The projection is named ${projection.name} and the name indicates which FeatureView the projection is for.`,
    );
  }
  for (const feature of projection.features) {
    if (!view.features.some((f) => fieldsEqual(f, feature))) {
      throw new InvalidArgumentError(
        `The projection for ${view.name} cannot be applied because it contains ${feature.name} which the FeatureView doesn't have.`,
      );
    }
  }
  return Object.freeze({ ...view, projection });
}

/**
 * The offline server's `remove_dummies`: `__dummy` anywhere in the entities blanks both the
 * entities and the entity columns (the projection is left alone).
 */
export function removeDummies(view: FeatureView): FeatureView {
  if (!view.entities.includes(DUMMY_ENTITY_NAME)) return view;
  return Object.freeze({ ...view, entities: Object.freeze([]), entityColumns: Object.freeze([]) });
}

/**
 * `Field.__eq__`: name, Feast type (value type plus the struct / nested-type tags that refine it),
 * description, user tags and the vector settings. Struct schemas are compared as stored JSON
 * text, which is exact for projections `feast apply` copied from the view.
 */
export function fieldsEqual(a: Field, b: Field): boolean {
  return (
    a.name === b.name &&
    a.valueType === b.valueType &&
    a.structSchema === b.structSchema &&
    a.nestedInnerType === b.nestedInnerType &&
    (a.description ?? '') === (b.description ?? '') &&
    tagsEqual(a.tags, b.tags) &&
    (a.vectorLength ?? 0) === (b.vectorLength ?? 0) &&
    (a.vectorIndex ?? false) === (b.vectorIndex ?? false) &&
    (a.vectorSearchMetric ?? '') === (b.vectorSearchMetric ?? '')
  );
}

function tagsEqual(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
