"""Every metric and recording-rule name the project's parts share, in one place.

The exporter, the rule renderer, the bridge, the report and the dashboards import names from
here, so a rename is one edit and a test catches a part that drifted. Host metrics use
node_exporter's names and are listed in the exporter's collectors (they are node_exporter's
contract, not ours).
"""

# --- exporter's own -------------------------------------------------------------------------
COLLECTOR_SUCCESS = "tradewatch_scrape_collector_success"  # {collector}
COLLECTOR_DURATION = "tradewatch_scrape_collector_duration_seconds"  # {collector}
EXPORTER_BUILD_INFO = "tradewatch_exporter_build_info"  # {version}
PROBE_SUCCESS = "tradewatch_probe_success"  # {probe, type=http|tcp|sql}
PROBE_DURATION = "tradewatch_probe_duration_seconds"  # {probe, type}
PROBE_HTTP_STATUS = "tradewatch_probe_http_status_code"  # {probe}
SQL_QUERY_SUCCESS = "tradewatch_sql_query_success"  # {probe, query}
SQL_QUERY_DURATION = "tradewatch_sql_query_duration_seconds"  # {probe, query}
SQL_GAUGE_PREFIX = "tradewatch_sql_"  # + query name: one gauge per configured query
TEXTFILE_MTIME = "tradewatch_textfile_mtime_seconds"  # {file}
TEXTFILE_SCRAPE_ERROR = "tradewatch_textfile_scrape_error"

# --- trading bot (exporter/trading.py instrumentation) ----------------------------------------
TRADING_REALIZED_PNL = "trading_realized_pnl"  # gauge, account currency, cumulative
TRADING_EQUITY = "trading_equity"  # gauge, account currency
TRADING_OPEN_POSITIONS = "trading_open_positions"  # gauge
TRADING_ORDERS = "trading_orders_total"  # counter {status=submitted|filled|cancelled|rejected}
TRADING_ORDER_LATENCY = "trading_order_latency_seconds"  # histogram
TRADING_EXCHANGE_REQUESTS = "trading_exchange_requests_total"  # counter {exchange, endpoint, code}
TRADING_EXCHANGE_DURATION = "trading_exchange_request_duration_seconds"  # histogram {exchange, endpoint}
TRADING_EXCHANGE_ERRORS = "trading_exchange_errors_total"  # counter {exchange, endpoint, error}
TRADING_LAST_TRADE = "trading_last_trade_timestamp_seconds"  # gauge, unix time
TRADING_HEARTBEAT = "trading_heartbeat_timestamp_seconds"  # gauge, unix time
TRADING_START_TIME = "trading_start_time_seconds"  # gauge, unix time the bot process started
TRADING_BOT_UP = "trading_bot_up"  # gauge {bot}: 1 while an integrated bot (freqtrade) answers

# --- freqtrade (exporter/collectors/freqtrade.py), all {bot} --------------------------------
FREQTRADE_STATE = "trading_freqtrade_state"  # {bot, state=running|paused|stopped|reload_config}: 1/0
FREQTRADE_OPEN_TRADES = "trading_freqtrade_open_trades"
FREQTRADE_MAX_OPEN_TRADES = "trading_freqtrade_max_open_trades"
FREQTRADE_OPEN_PROFIT = "trading_freqtrade_open_profit"  # unrealized, stake currency
FREQTRADE_LAST_PROCESS_AGE = "trading_freqtrade_last_process_age_seconds"
FREQTRADE_CLOSED_PROFIT_RATIO = "trading_freqtrade_closed_profit_ratio"
FREQTRADE_CLOSED_TRADES = "trading_freqtrade_closed_trades"
FREQTRADE_WINNING_TRADES = "trading_freqtrade_winning_trades"
FREQTRADE_LOSING_TRADES = "trading_freqtrade_losing_trades"
FREQTRADE_TODAY_PROFIT = "trading_freqtrade_today_profit"  # /daily: today's closed profit, stake currency
FREQTRADE_TODAY_TRADES = "trading_freqtrade_today_trades"

# --- bridge --------------------------------------------------------------------------------
# counter {result=accepted|duplicate|invalid|unavailable|unauthorized|too_large}
BRIDGE_WEBHOOKS = "tradewatch_bridge_webhooks_total"
BRIDGE_ALERTS = "tradewatch_bridge_alerts_received_total"  # counter {severity, status}
BRIDGE_EMAILS = "tradewatch_bridge_emails_total"  # counter {result=sent|failed|retried}
BRIDGE_OUTBOX_DEPTH = "tradewatch_bridge_outbox_depth"  # gauge: emails waiting
BRIDGE_OUTBOX_OLDEST_AGE = "tradewatch_bridge_outbox_oldest_age_seconds"  # gauge
BRIDGE_LAST_SEND = "tradewatch_bridge_last_successful_send_timestamp_seconds"  # gauge
BRIDGE_WATCHDOG_LAST_SEEN = "tradewatch_bridge_watchdog_last_seen_timestamp_seconds"  # gauge
# counter {channel=email|<channels[].name>, kind, result=sent|failed}: every finished delivery
NOTIFICATIONS = "tradewatch_notifications_total"
BRIDGE_OUTBOX_BACKLOG = "tradewatch_bridge_outbox_backlog"  # gauge {channel=email|<name>}: waiting
BRIDGE_NOTIFICATIONS_PAUSED = "tradewatch_bridge_notifications_paused"  # gauge 0/1
HEALTH_SCORE = "tradewatch_health_score"  # gauge {component=overall|performance|alerts|trading|integrity}

# --- recording rules (prometheus/rules/, rendered by `tradewatch rules`) --------------------
# Ratios are 0..1, as in the node-mixin; percentages are only for people (annotations, emails).
# What the host rules record (PromQL and the raw-sample formula) is in tradewatch/quantities.py.
REC_CPU_UTILISATION = "instance:node_cpu_utilisation:rate5m"
REC_MEMORY_UTILISATION = "instance:node_memory_utilisation:ratio"
REC_FILESYSTEM_USAGE = "instance_mountpoint:node_filesystem_usage:ratio"  # {device,mountpoint,fstype}
REC_NUM_CPU = "instance:node_num_cpu:sum"
REC_LOAD_PER_CORE = "instance:node_load1_per_cpu:ratio"
REC_NETWORK_ERROR_RATIO = "instance_device:node_network_errors:ratio_rate5m"
REC_NETWORK_RECEIVE_BYTES = "instance:node_network_receive_bytes_excluding_lo:rate5m"
REC_NETWORK_TRANSMIT_BYTES = "instance:node_network_transmit_bytes_excluding_lo:rate5m"
# {probe,type}: average over max(5m, 3 x intervals.api), since probes are scraped at that interval
REC_PROBE_SUCCESS_RATIO = "probe:tradewatch_probe_success:ratio"
REC_API_P95 = "instance:trading_exchange_request_duration_seconds:p95_5m"
REC_API_ERROR_RATIO = "instance:trading_exchange_request_errors:ratio_rate5m"
REC_ORDER_REJECTION_RATIO = "instance:trading_orders_rejected:ratio_rate15m"
