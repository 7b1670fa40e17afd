// Loads the plugin's module.js as Grafana does (an AMD module handed to a SystemJS-style loader),
// with small stand-ins for the modules Grafana provides at run time, then exercises what Grafana
// would: the exported DataSourcePlugin, its config and query editors, and the data source class.
// Usage: node load-module.js <module.js>. Prints a JSON report on stdout; exits 1 on a failed check.
'use strict';

const fs = require('fs');
const vm = require('vm');

const failures = [];
function check(condition, message) {
  if (!condition) {
    failures.push(message);
  }
}

// React stand-in: elements are plain objects; hooks keep one component's state, effects run at once.
const effects = [];
const React = {
  createElement(type, props, ...children) {
    return { type, props: props || {}, children: children.flat() };
  },
  useState(initial) {
    const cell = { value: initial };
    return [cell.value, (next) => { cell.value = typeof next === 'function' ? next(cell.value) : next; }];
  },
  useEffect(effect) {
    effects.push(effect);
  },
};

// @grafana/ui stand-ins: components are only names here.
const ui = {};
for (const name of ['InlineField', 'InlineFieldRow', 'Input', 'SecretInput', 'Select', 'TextArea', 'RadioButtonGroup']) {
  ui[name] = function component() {};
  Object.defineProperty(ui[name], 'name', { value: name });
}

// @grafana/data: DataSourcePlugin records what the module registers.
class DataSourcePlugin {
  constructor(DataSourceClass) {
    this.DataSourceClass = DataSourceClass;
    this.components = {};
  }
  setConfigEditor(editor) {
    this.components.ConfigEditor = editor;
    return this;
  }
  setQueryEditor(editor) {
    this.components.QueryEditor = editor;
    return this;
  }
}

// @grafana/runtime: the backend data source base and the template service.
const resourceCalls = [];
class DataSourceWithBackend {
  constructor(instanceSettings) {
    this.instanceSettings = instanceSettings;
    this.uid = instanceSettings.uid;
  }
  getResource(path) {
    resourceCalls.push(path);
    return Promise.resolve(path === 'labels'
      ? { status: 'success', data: ['SrcK8S_Namespace', 'app'] }
      : { status: 'success', data: ['ns-a', 'ns-b'] });
  }
}
// $namespace is one value; $all is a variable on All (the list of every value).
const templateSrv = {
  replace(text, scopedVars, format) {
    return text
      .replace(/\$namespace/g, () => (format ? format('ns-a') : 'ns-a'))
      .replace(/\$all/g, () => (format ? format(['ns-a', 'ns-b']) : 'ns-a,ns-b'));
  },
};
const runtime = { DataSourceWithBackend, getTemplateSrv: () => templateSrv };

const provided = { '@grafana/data': { DataSourcePlugin }, '@grafana/runtime': runtime, '@grafana/ui': ui, react: React };

// The loader: runs the file with a global define(), resolves its dependencies from `provided`.
let exported;
const sandbox = {
  define(dependencies, factory) {
    const missing = dependencies.filter((d) => !(d in provided));
    if (missing.length > 0) {
      throw new Error('module.js asks for modules Grafana does not provide: ' + missing.join(', '));
    }
    exported = factory(...dependencies.map((d) => provided[d]));
  },
  console,
  Promise,
  Object,
  encodeURIComponent,
  parseInt,
};
sandbox.define.amd = true;
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(process.argv[2], 'utf8'), sandbox, { filename: 'module.js' });

function walk(element, visit) {
  if (!element || typeof element !== 'object') {
    return;
  }
  visit(element);
  (element.children || []).forEach((child) => walk(child, visit));
}
function find(element, predicate) {
  const found = [];
  walk(element, (e) => { if (predicate(e)) found.push(e); });
  return found;
}

(async () => {
  check(exported && exported.plugin instanceof DataSourcePlugin, 'module.js exports a DataSourcePlugin as plugin');
  const plugin = exported.plugin;
  check(typeof plugin.components.ConfigEditor === 'function', 'a config editor is registered');
  check(typeof plugin.components.QueryEditor === 'function', 'a query editor is registered');

  // The data source class extends DataSourceWithBackend, so queries run in the plugin process.
  const ds = new plugin.DataSourceClass({ uid: 'netobserv', jsonData: {} });
  check(ds instanceof DataSourceWithBackend, 'the data source extends DataSourceWithBackend');
  check(ds.getDefaultQuery().queryType === 'volumetry', 'the default query is volumetry');
  const applied = ds.applyTemplateVariables({ refId: 'A', queryType: 'flows', srcNamespace: '$namespace' }, {});
  check(applied.srcNamespace === 'ns-a', 'dashboard variables are replaced in filters');
  const all = ds.applyTemplateVariables({ refId: 'A', queryType: 'flows', dstNamespace: '$all', expr: '' }, {});
  check(all.dstNamespace === '', 'a variable on All leaves the filter empty (any value)');
  const variable = await ds.metricFindQuery('label_values(SrcK8S_Namespace)');
  check(resourceCalls.includes('label/SrcK8S_Namespace/values'), 'template variables ask CallResource for label values');
  check(JSON.stringify(variable) === JSON.stringify([{ text: 'ns-a', value: 'ns-a' }, { text: 'ns-b', value: 'ns-b' }]),
    'template variable values are the label values');

  // Config editor: URL, token and tenant fields; editing the URL reports new options.
  let changed;
  const config = plugin.components.ConfigEditor({
    options: { url: 'http://netobserv-backend:9090', jsonData: {}, secureJsonFields: {} },
    onOptionsChange: (o) => { changed = o; },
  });
  const inputs = find(config, (e) => e.type === ui.Input);
  const secrets = find(config, (e) => e.type === ui.SecretInput);
  check(inputs.length === 2 && secrets.length === 1, 'the config editor has URL and tenant inputs and a token secret input');
  check(inputs[0].props.value === 'http://netobserv-backend:9090', 'the URL input shows the data source URL');
  inputs[0].props.onChange({ currentTarget: { value: 'http://other:9090' } });
  check(changed && changed.url === 'http://other:9090', 'editing the URL changes the options');
  secrets[0].props.onChange({ currentTarget: { value: 's3cret' } });
  check(changed.secureJsonData.token === 's3cret', 'the token goes to secureJsonData.token');

  // Query editor, for each query type.
  const report = { queryTypes: {} };
  for (const queryType of ['volumetry', 'flows', 'logql']) {
    effects.length = 0;
    resourceCalls.length = 0;
    let query = { refId: 'A', queryType };
    let ran = 0;
    const editor = plugin.components.QueryEditor({
      query, datasource: ds, onChange: (q) => { query = q; }, onRunQuery: () => { ran++; },
    });
    effects.forEach((effect) => effect());
    await Promise.resolve();
    const selects = find(editor, (e) => e.type === ui.Select).length;
    const textAreas = find(editor, (e) => e.type === ui.TextArea);
    const types = find(editor, (e) => e.type === ui.RadioButtonGroup);
    check(types.length === 1, queryType + ': a query type picker');
    report.queryTypes[queryType] = { selects, textAreas: textAreas.length, resourceCalls: resourceCalls.slice() };
    if (queryType === 'logql') {
      check(textAreas.length === 1, 'logql: a LogQL text box');
      textAreas[0].props.onChange({ currentTarget: { value: '{app="netobserv-flowcollector"}' } });
      check(query.expr === '{app="netobserv-flowcollector"}', 'logql: typing changes expr');
    } else {
      check(resourceCalls.includes('label/SrcK8S_Namespace/values') && resourceCalls.includes('label/DstK8S_OwnerName/values'),
        queryType + ': namespace and workload pickers are filled through CallResource');
      check(selects >= 4, queryType + ': namespace and workload pickers');
    }
    types[0].props.onChange('flows');
    check(query.queryType === 'flows' && ran === 1, queryType + ': choosing a query type changes it and runs the query');
  }

  report.failures = failures;
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(failures.length === 0 ? 0 : 1);
})().catch((error) => {
  process.stdout.write(JSON.stringify({ failures: failures.concat(['threw: ' + error.stack]) }) + '\n');
  process.exit(1);
});
