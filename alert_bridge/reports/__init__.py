"""The daily report: health score and its inputs, recommendations, schedule, data, charts, render, send."""
