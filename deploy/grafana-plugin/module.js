/*
 * netobserv-flows-datasource front end. Hand-written AMD module against the modules Grafana provides
 * at run time (@grafana/data, @grafana/runtime, @grafana/ui, react); no build step. Queries run in the
 * plugin's backend process (DataSourceWithBackend), so alerting and provisioned dashboards use the
 * same code path.
 */
define(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react'], function (data, runtime, ui, React) {
  'use strict';

  var h = React.createElement;
  var FILTERS = ['srcNamespace', 'dstNamespace', 'srcWorkload', 'dstWorkload'];
  var LABELS = {
    srcNamespace: 'SrcK8S_Namespace',
    dstNamespace: 'DstK8S_Namespace',
    srcWorkload: 'SrcK8S_OwnerName',
    dstWorkload: 'DstK8S_OwnerName'
  };

  function options(values) {
    return values.map(function (v) {
      return { label: v, value: v };
    });
  }

  function assign(target) {
    for (var i = 1; i < arguments.length; i++) {
      var source = arguments[i] || {};
      for (var key in source) {
        if (Object.prototype.hasOwnProperty.call(source, key)) {
          target[key] = source[key];
        }
      }
    }
    return target;
  }

  class NetObservDataSource extends runtime.DataSourceWithBackend {
    constructor(instanceSettings) {
      super(instanceSettings);
    }

    getDefaultQuery() {
      return { queryType: 'volumetry', groupBy: 'namespace', metric: 'bytes', direction: 'src' };
    }

    filterQuery(query) {
      return !query.hide && (query.queryType !== 'logql' || !!query.expr);
    }

    /*
     * Dashboard variables in LogQL and filters are replaced before the query reaches the backend. A
     * filter is one exact value: a variable on All (or several values) leaves it empty, which matches any.
     */
    applyTemplateVariables(query, scopedVars) {
      var templateSrv = runtime.getTemplateSrv();
      var out = assign({}, query);
      if (typeof out.expr === 'string' && out.expr !== '') {
        out.expr = templateSrv.replace(out.expr, scopedVars);
      }
      FILTERS.forEach(function (key) {
        if (typeof out[key] === 'string' && out[key] !== '') {
          out[key] = templateSrv.replace(out[key], scopedVars, function (value) {
            if (Array.isArray(value)) {
              return value.length === 1 ? value[0] : '';
            }
            return value === '$__all' ? '' : value;
          });
        }
      });
      return out;
    }

    /* Values of one label, through the plugin's CallResource (label/<name>/values). */
    labelValues(name) {
      return this.getResource('label/' + encodeURIComponent(name) + '/values').then(function (answer) {
        return (answer && answer.data) || [];
      });
    }

    /* Template variables: "label_values(SrcK8S_Namespace)" or just a label name. */
    metricFindQuery(query) {
      var text = typeof query === 'string' ? query : (query && query.query) || '';
      var match = /^\s*label_values\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(text);
      var name = match ? match[1] : text.trim();
      if (!name) {
        return this.getResource('labels').then(function (answer) {
          return ((answer && answer.data) || []).map(function (v) {
            return { text: v, value: v };
          });
        });
      }
      return this.labelValues(name).then(function (values) {
        return values.map(function (v) {
          return { text: v, value: v };
        });
      });
    }
  }

  function ConfigEditor(props) {
    var settings = props.options;
    var jsonData = settings.jsonData || {};
    var secureJsonData = settings.secureJsonData || {};
    var secureJsonFields = settings.secureJsonFields || {};
    function update(change) {
      props.onOptionsChange(assign({}, settings, change));
    }
    return h(
      'div',
      { className: 'gf-form-group' },
      h(
        ui.InlineField,
        { label: 'URL', labelWidth: 20, tooltip: "The backend's gRPC query API, e.g. http://netobserv-backend.netobserv.svc:9090" },
        h(ui.Input, {
          width: 50,
          value: settings.url || '',
          placeholder: 'http://netobserv-backend.netobserv.svc:9090',
          onChange: function (e) {
            update({ url: e.currentTarget.value });
          }
        })
      ),
      h(
        ui.InlineField,
        { label: 'Token', labelWidth: 20, tooltip: 'Bearer token sent to the backend (optional)' },
        h(ui.SecretInput, {
          width: 50,
          isConfigured: !!secureJsonFields.token,
          value: secureJsonData.token || '',
          onChange: function (e) {
            update({ secureJsonData: assign({}, secureJsonData, { token: e.currentTarget.value }) });
          },
          onReset: function () {
            update({
              secureJsonFields: assign({}, secureJsonFields, { token: false }),
              secureJsonData: assign({}, secureJsonData, { token: '' })
            });
          }
        })
      ),
      h(
        ui.InlineField,
        { label: 'Tenant', labelWidth: 20, tooltip: 'Tenant to read (sent as X-Scope-OrgID); empty reads the default tenant' },
        h(ui.Input, {
          width: 50,
          value: jsonData.tenant || '',
          onChange: function (e) {
            update({ jsonData: assign({}, jsonData, { tenant: e.currentTarget.value }) });
          }
        })
      )
    );
  }

  var QUERY_TYPES = [
    { label: 'Volumetry', value: 'volumetry', description: 'Bytes, packets or flows per second by namespace or workload' },
    { label: 'Flow table', value: 'flows', description: 'The flows themselves, newest first' },
    { label: 'LogQL', value: 'logql', description: 'Any query the Loki API answers' }
  ];

  function picker(label, value, choices, onSelect) {
    return h(
      ui.InlineField,
      { label: label, labelWidth: 14 },
      h(ui.Select, {
        width: 24,
        value: value,
        options: choices,
        isClearable: true,
        allowCustomValue: true,
        onChange: function (option) {
          onSelect(option ? option.value : '');
        }
      })
    );
  }

  function QueryEditor(props) {
    var query = props.query;
    var datasource = props.datasource;
    var state = React.useState({});
    var values = state[0];
    var setValues = state[1];
    var type = query.queryType || 'volumetry';

    React.useEffect(function () {
      if (type === 'logql') {
        return;
      }
      FILTERS.forEach(function (key) {
        datasource.labelValues(LABELS[key]).then(function (list) {
          setValues(function (previous) {
            var next = assign({}, previous);
            next[key] = list;
            return next;
          });
        });
      });
    }, [type]);

    function change(delta, run) {
      props.onChange(assign({}, query, delta));
      if (run) {
        props.onRunQuery();
      }
    }

    var rows = [
      h(
        ui.InlineField,
        { key: 'type', label: 'Query type', labelWidth: 14 },
        h(ui.RadioButtonGroup, {
          options: QUERY_TYPES,
          value: type,
          onChange: function (v) {
            change({ queryType: v }, true);
          }
        })
      )
    ];

    if (type === 'logql') {
      rows.push(
        h(
          ui.InlineField,
          { key: 'expr', label: 'LogQL', labelWidth: 14, grow: true },
          h(ui.TextArea, {
            rows: 3,
            value: query.expr || '',
            placeholder: 'sum by (SrcK8S_Namespace) (rate({app="netobserv-flowcollector"} | json | unwrap Bytes [1m]))',
            onChange: function (e) {
              change({ expr: e.currentTarget.value }, false);
            },
            onBlur: function () {
              props.onRunQuery();
            }
          })
        )
      );
    } else {
      if (type === 'volumetry') {
        rows.push(
          h(
            ui.InlineFieldRow,
            { key: 'shape' },
            picker('Metric', query.metric || 'bytes', options(['bytes', 'packets', 'flows']), function (v) {
              change({ metric: v || 'bytes' }, true);
            }),
            picker('Group by', query.groupBy || 'namespace', options(['namespace', 'workload']), function (v) {
              change({ groupBy: v || 'namespace' }, true);
            }),
            picker('Side', query.direction || 'src', [{ label: 'source', value: 'src' }, { label: 'destination', value: 'dst' }], function (v) {
              change({ direction: v || 'src' }, true);
            })
          )
        );
      } else {
        rows.push(
          h(
            ui.InlineField,
            { key: 'limit', label: 'Limit', labelWidth: 14 },
            h(ui.Input, {
              type: 'number',
              width: 12,
              value: query.limit || 1000,
              onChange: function (e) {
                change({ limit: parseInt(e.currentTarget.value, 10) || 1000 }, false);
              },
              onBlur: function () {
                props.onRunQuery();
              }
            })
          )
        );
      }
      rows.push(
        h(
          ui.InlineFieldRow,
          { key: 'filters' },
          FILTERS.map(function (key) {
            return h(
              'span',
              { key: key },
              picker(LABELS[key], query[key] || '', options(values[key] || []), function (v) {
                var delta = {};
                delta[key] = v;
                change(delta, true);
              })
            );
          })
        )
      );
    }
    return h('div', null, rows);
  }

  var plugin = new data.DataSourcePlugin(NetObservDataSource).setConfigEditor(ConfigEditor).setQueryEditor(QueryEditor);
  return { plugin: plugin, NetObservDataSource: NetObservDataSource, ConfigEditor: ConfigEditor, QueryEditor: QueryEditor };
});
