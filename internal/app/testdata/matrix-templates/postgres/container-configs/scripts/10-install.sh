#!/bin/sh
echo creating database
