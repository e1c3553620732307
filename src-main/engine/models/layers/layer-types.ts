import type { tf } from '../../tf';

/** Constructor args every tfjs layer takes (name, trainable, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** A tfjs shape with the batch axis (null) first. */
export type Shape = (number | null)[];
