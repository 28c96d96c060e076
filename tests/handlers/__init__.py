"""Tests of the compiled-handler machinery, through what an app serves and documents."""
