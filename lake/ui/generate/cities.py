"""What makes a generated export look like a city's: its name, centre, neighbourhoods and street
names (accented, with commas and quotes, as real Movement display names are)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    neighbourhoods: tuple[str, ...]
    street_types: tuple[str, ...]
    street_names: tuple[str, ...]


CITIES = {
    "bogota": City(
        "Bogotá",
        4.65,
        -74.08,
        (
            "Chapinero",
            "Usaquén",
            "Teusaquillo",
            "La Candelaria",
            "Kennedy",
            "Suba",
            "Engativá",
            "Fontibón",
            "Barrios Unidos",
            "Santa Fe",
            "Antonio Nariño",
            "Puente Aranda",
        ),
        ("Calle", "Carrera", "Avenida", "Diagonal", "Transversal"),
        ("Jiménez", "Boyacá", "Caracas", "El Dorado", "de las Américas", "Suba", "Séptima"),
    ),
    "sao-paulo": City(
        "São Paulo",
        -23.55,
        -46.63,
        (
            "Bela Vista",
            "Consolação",
            "Pinheiros",
            "Vila Madalena",
            "Mooca",
            "Liberdade",
            "Butantã",
            "Itaim Bibi",
            "Jardim Paulista",
            "Santana",
            "Perdizes",
            "Ipiranga",
        ),
        ("Rua", "Avenida", "Alameda", "Praça", "Travessa"),
        (
            "Augusta",
            "Paulista",
            "da Consolação",
            "Oscar Freire",
            "Teodoro Sampaio",
            "São João",
            "Brigadeiro Luís Antônio",
            "Ibirapuera",
        ),
    ),
    "paris": City(
        "Paris",
        48.86,
        2.35,
        (
            "Le Marais",
            "Montmartre",
            "Belleville",
            "Saint-Germain-des-Prés",
            "La Défense",
            "Bastille",
            "Batignolles",
            "Ménilmontant",
            "Quartier Latin",
            "Passy",
        ),
        ("Rue", "Boulevard", "Avenue", "Quai", "Place"),
        ("de Rivoli", "Saint-Michel", "de l'Opéra", "Haussmann", "Voltaire", "des Écoles"),
    ),
}


def generic_city(slug: str) -> City:
    name = slug.replace("-", " ").title()
    return City(
        name,
        0.0,
        0.0,
        tuple(f"{name} {part}" for part in ("Centro", "Norte", "Sur", "Este", "Oeste", "Ribeirão")),
        ("Street", "Avenue", "Road", "Boulevard"),
        ("Main", "Market", "Station", "Église", "O'Neil", "Park"),
    )


def display_name(rng: random.Random, city: City, zone_id: int) -> str:
    street = f"{rng.choice(city.street_types)} {rng.choice(city.street_names)}"
    neighbourhood = rng.choice(city.neighbourhoods)
    kind = rng.randrange(6)
    if kind == 0:
        return neighbourhood
    if kind == 1:
        return f"{street}, {neighbourhood}"
    if kind == 2:
        # Quoted street names appear in real exports, e.g. `Rua "Augusta", São Paulo`.
        name = street.split(" ", 1)
        return f'{name[0]} "{name[1]}", {city.name}'
    if kind == 3:
        return f"{rng.randrange(1, 3000)} {street}, {neighbourhood}, {city.name}"
    if kind == 4:
        return f"{street} & {rng.choice(city.street_names)}"
    return f"Movement Zone {zone_id}"


def polygon(rng: random.Random, city: City) -> str:
    # A small irregular polygon near the city centre, WKT as some exports carry it.
    lat = city.latitude + rng.uniform(-0.2, 0.2)
    lon = city.longitude + rng.uniform(-0.2, 0.2)
    points = []
    vertices = rng.randrange(8, 17)
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        radius = rng.uniform(0.002, 0.01)
        points.append(f"{lon + radius * math.cos(angle):.6f} {lat + radius * math.sin(angle):.6f}")
    points.append(points[0])
    return f"POLYGON (({', '.join(points)}))"


def coordinates(rng: random.Random, city: City) -> str:
    """A zone's outline as the data.world copies carry it: a JSON array of [lon, lat] pairs."""
    lat = city.latitude + rng.uniform(-0.2, 0.2)
    lon = city.longitude + rng.uniform(-0.2, 0.2)
    vertices = rng.randrange(8, 17)
    points = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        radius = rng.uniform(0.002, 0.01)
        points.append(
            f"[{lon + radius * math.cos(angle):.6f},{lat + radius * math.sin(angle):.6f}]"
        )
    return "[" + ",".join([*points, points[0]]) + "]"
