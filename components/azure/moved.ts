import type * as pulumi from "@pulumi/pulumi";

/**
 * Options for a child of a sub-component whose resources used to be children
 * of the pipeline component itself: the alias keeps their URNs, so an existing
 * stack updates them in place instead of replacing them.
 */
export function movedFrom(component: pulumi.Resource, opts: { parent: pulumi.Resource }): { parent: pulumi.Resource; aliases: pulumi.Input<pulumi.Alias>[] } {
  return { parent: component, aliases: [{ parent: opts.parent }] };
}
