"""Entry point: `python run.py` serves the app (development config unless CME_CONFIG says otherwise);
gunicorn (scripts/serve.sh) imports ``app`` from here in each worker process."""
import gc
import os

from app import create_app

app = create_app(os.environ.get("CME_CONFIG", "development"))
# The ~270,000 objects of the loaded app (Flask-AppBuilder, SQLAlchemy mappers, templates, catalogues) live
# as long as the process: kept out of the cyclic garbage collector, whose full passes over them took
# ~140 ms each (a stall of whatever request triggered one; issue 18, bench/README.md).
gc.freeze()

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    app.run(host=host, port=port, threaded=True)
