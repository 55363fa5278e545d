// A TypeDoc plugin: a machine's type is `StateMachine<…>` with its whole config among the type
// arguments, thousands of undocumentable members; show it as plain `StateMachine` (the machine's
// JSDoc says what it takes and returns).
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    /** @type {Set<import('typedoc').Reflection>} */
    const literals = new Set();
    const walkType = (type) => {
      if (!type || typeof type !== 'object') return;
      if (type.type === 'reflection') {
        if (literals.has(type.declaration)) return;
        literals.add(type.declaration);
        walkDeclaration(type.declaration);
        return;
      }
      for (const key of [
        'elementType',
        'element',
        'target',
        'targetType',
        'queryType',
        'constraint',
        'checkType',
        'extendsType',
        'trueType',
        'falseType',
        'objectType',
        'indexType',
        'parameterType',
        'templateType',
        'nameType',
      ]) {
        walkType(type[key]);
      }
      for (const key of ['types', 'elements', 'typeArguments']) for (const t of type[key] ?? []) walkType(t);
      for (const [t] of type.tail ?? []) walkType(t);
    };
    const walkSignature = (signature) => {
      walkType(signature.type);
      for (const parameter of signature.parameters ?? []) walkType(parameter.type);
    };
    const walkDeclaration = (declaration) => {
      walkType(declaration.type);
      for (const child of declaration.children ?? []) walkDeclaration(child);
      for (const signature of [...(declaration.signatures ?? []), ...(declaration.indexSignatures ?? [])]) walkSignature(signature);
      if (declaration.getSignature) walkSignature(declaration.getSignature);
      if (declaration.setSignature) walkSignature(declaration.setSignature);
    };
    for (const reflection of project.getReflectionsByKind(ReflectionKind.Variable)) {
      const type = reflection.type;
      if (type?.type !== 'reference' || type.name !== 'StateMachine' || type.package !== 'xstate') continue;
      for (const argument of type.typeArguments ?? []) walkType(argument);
      type.typeArguments = undefined;
    }
    for (const literal of literals) project.removeReflection(literal);
  });
}
