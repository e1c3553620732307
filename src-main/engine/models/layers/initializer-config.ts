// (De)serialization of tfjs initializers inside custom layer configs, as tfjs' own layers store them.
import { tf } from '../../tf';

export type Initializer = ReturnType<typeof tf.initializers.zeros>;
export interface SerializedInitializer {
  className: string;
  config: tf.serialization.ConfigDict;
}

export function serializeInitializer(init: Initializer): SerializedInitializer {
  return { className: init.getClassName(), config: init.getConfig() };
}

/** Accepts an initializer or its serialized form (what a saved model.json holds). */
export function toInitializer(value: Initializer | SerializedInitializer): Initializer {
  if (value instanceof tf.serialization.Serializable) return value as Initializer;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[value.className];
  if (!entry) throw new Error(`unknown initializer class '${value.className}'`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, value.config) as Initializer;
}
