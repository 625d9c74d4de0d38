"""Time-series CSV files: dialect detection, streaming profiles and reading series.

One implementation for every place that reads such a file: the upload service's
profiler, dataset builds and Predict (reading a value column as the profile says),
and the CLI reading a local file for a forecast. Pure: no service, database, object
store or gRPC import.
"""
